//! Device tokens: a browser's signed note that it has logged in to an account before.
//!
//! The account lockout (docs/design.md §4) stops password guessing, but by itself it also lets anyone
//! lock an owner out by guessing wrong on purpose. A device token (OWASP's "device cookie")
//! tells the owner's own browser apart: an attempt presenting a valid one for the account is
//! judged by that device's own failure count instead of the account's. The token is
//! `v1.<user id>.<device id>.<issued, unix seconds>.<HMAC-SHA256>`, all base64url or decimal, so it
//! can be checked without any storage; the device id is random, so each browser's count is its own.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::user::UserId;

const VERSION: &str = "v1";

/// A device's random identifier; its failures are counted under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeviceId([u8; 16]);

impl DeviceId {
    /// A device id from 16 random bytes.
    pub fn from_random(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }
}

impl std::fmt::Display for DeviceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&URL_SAFE_NO_PAD.encode(self.0))
    }
}

/// What a device token says: this device logged in to this user's account at this time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceToken {
    /// The account the device logged in to.
    pub user: UserId,
    /// The device.
    pub device: DeviceId,
    /// When the token was issued (whole seconds).
    pub issued_at: OffsetDateTime,
}

/// The key device tokens are signed with, derived from the server secret.
#[derive(Clone)]
pub struct DeviceKey([u8; 32]);

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceKey([redacted])")
    }
}

impl DeviceKey {
    /// Wraps a derived key.
    pub fn new(key: [u8; 32]) -> Self {
        Self(key)
    }

    fn mac(&self, signed: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(signed.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The token's text form, signed.
    pub fn seal(&self, token: &DeviceToken) -> String {
        let signed = format!(
            "{VERSION}.{}.{}.{}",
            token.user.0.simple(),
            token.device,
            token.issued_at.unix_timestamp()
        );
        let mac = URL_SAFE_NO_PAD.encode(self.mac(&signed));
        format!("{signed}.{mac}")
    }

    /// The token `value` carries, if it is well formed, signed with this key, issued no later
    /// than `now` (with `skew` of tolerance) and younger than `lifetime`. Anything else is no
    /// token at all: the attempt is then judged as one from an unknown device.
    pub fn open(
        &self,
        value: &str,
        now: OffsetDateTime,
        lifetime: Duration,
        skew: Duration,
    ) -> Option<DeviceToken> {
        let (signed, mac) = value.rsplit_once('.')?;
        let mac = URL_SAFE_NO_PAD.decode(mac).ok()?;
        if !bool::from(self.mac(signed).as_slice().ct_eq(&mac)) {
            return None;
        }
        let mut parts = signed.split('.');
        let (Some(VERSION), Some(user), Some(device), Some(issued), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        let user = UserId(Uuid::try_parse(user).ok()?);
        let device = DeviceId(URL_SAFE_NO_PAD.decode(device).ok()?.try_into().ok()?);
        let issued_at = OffsetDateTime::from_unix_timestamp(issued.parse().ok()?).ok()?;
        (issued_at <= now + skew && now < issued_at + lifetime).then_some(DeviceToken {
            user,
            device,
            issued_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const YEAR: Duration = Duration::days(365);

    fn token() -> DeviceToken {
        DeviceToken {
            user: UserId(Uuid::from_u128(7)),
            device: DeviceId::from_random([3; 16]),
            issued_at: OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(),
        }
    }

    #[test]
    fn a_sealed_token_opens_with_its_key_until_it_expires() {
        let key = DeviceKey::new([1; 32]);
        let sealed = key.seal(&token());
        let now = token().issued_at + Duration::days(30);
        assert_eq!(key.open(&sealed, now, YEAR, Duration::ZERO), Some(token()));
        let expired = token().issued_at + YEAR;
        assert_eq!(key.open(&sealed, expired, YEAR, Duration::ZERO), None);
        let before = token().issued_at - Duration::minutes(5);
        assert_eq!(key.open(&sealed, before, YEAR, Duration::ZERO), None);
        assert_eq!(
            DeviceKey::new([2; 32]).open(&sealed, now, YEAR, Duration::ZERO),
            None
        );
    }

    #[test]
    fn tampered_tokens_do_not_open() {
        let key = DeviceKey::new([1; 32]);
        let sealed = key.seal(&token());
        let other_user = sealed.replacen(
            &Uuid::from_u128(7).simple().to_string(),
            &Uuid::from_u128(8).simple().to_string(),
            1,
        );
        let now = token().issued_at;
        for bad in [
            other_user.as_str(),
            &sealed[..sealed.len() - 1],
            "",
            ".",
            "v1....",
            "v1.x.y.z.w",
            &format!("{sealed}.extra"),
        ] {
            assert_eq!(key.open(bad, now, YEAR, Duration::ZERO), None, "{bad}");
        }
    }
}
