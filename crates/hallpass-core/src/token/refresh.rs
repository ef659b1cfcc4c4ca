//! Refresh tokens and the rotation state machine of docs/design.md §1.
//!
//! The token of generation `n` is `hp_rt_` + base64url(session id ‖ n ‖ HMAC(refresh key,
//! session id ‖ n ‖ salt)). Nothing secret is stored: the salt is in the session row, the key is
//! derived from the server secret, so neither a leaked database nor a leaked secret alone can
//! mint a token; and the successor of `n` is always the same token, so a replay inside the grace
//! window can be answered with it instead of forking the family.

use std::fmt;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use time::Duration;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::session::SessionId;

/// The stored refresh state lives beside the session it belongs to; re-exported here so
/// `token::refresh::RefreshState` keeps naming it.
pub use crate::session::RefreshState;

const PREFIX: &str = "hp_rt_";
const BODY_BYTES: usize = 16 + 8 + 32;

/// The key refresh tokens are made with, derived from the server secret.
#[derive(Clone)]
pub struct RefreshKey([u8; 32]);

impl fmt::Debug for RefreshKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshKey([redacted])")
    }
}

impl RefreshKey {
    /// Wraps a derived key.
    pub fn new(key: [u8; 32]) -> Self {
        Self(key)
    }

    fn mac(&self, session: SessionId, generation: u64, salt: &[u8]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(session.0.as_bytes());
        mac.update(&generation.to_be_bytes());
        mac.update(salt);
        mac.finalize().into_bytes().into()
    }

    /// The token of `generation` for `session`.
    pub fn mint(&self, session: SessionId, generation: u64, salt: &[u8]) -> RefreshToken {
        RefreshToken {
            session,
            generation,
            mac: self.mac(session, generation, salt),
        }
    }
}

/// A refresh token, parsed. Its text is a bearer secret, so `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken {
    /// The session (family) it belongs to.
    pub session: SessionId,
    /// Its generation.
    pub generation: u64,
    mac: [u8; 32],
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken([redacted])")
    }
}

impl RefreshToken {
    /// Parses the exact token shape; anything else is `None`.
    pub fn parse(input: &str) -> Option<Self> {
        let body = input.strip_prefix(PREFIX)?;
        if body.len() != (BODY_BYTES * 4).div_ceil(3) {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(body).ok()?;
        let (session, rest) = bytes.split_first_chunk::<16>()?;
        let (generation, mac) = rest.split_first_chunk::<8>()?;
        Some(Self {
            session: SessionId(Uuid::from_bytes(*session)),
            generation: u64::from_be_bytes(*generation),
            mac: mac.try_into().ok()?,
        })
    }

    /// Whether the MAC is right for this session's salt (constant time).
    pub fn is_authentic(&self, key: &RefreshKey, salt: &[u8]) -> bool {
        key.mac(self.session, self.generation, salt)
            .ct_eq(&self.mac)
            .into()
    }

    /// The token text.
    pub fn expose(&self) -> Zeroizing<String> {
        let mut bytes = Vec::with_capacity(BODY_BYTES);
        bytes.extend_from_slice(self.session.0.as_bytes());
        bytes.extend_from_slice(&self.generation.to_be_bytes());
        bytes.extend_from_slice(&self.mac);
        let mut text = String::from(PREFIX);
        URL_SAFE_NO_PAD.encode_string(&bytes, &mut text);
        Zeroizing::new(text)
    }
}

/// What to do with a presented (authentic) refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshDecision {
    /// It is the current generation: compare-and-set `from → from + 1`, answer with `from + 1`.
    Rotate {
        /// The generation to move from.
        from: u64,
    },
    /// It is the previous generation, presented within the grace window of the last rotation:
    /// answer with the current token again; change nothing.
    Replay {
        /// The current generation, whose token is the answer.
        current: u64,
    },
    /// An older generation, or the previous one after the grace window: the family was copied.
    Theft,
}

/// Decides per docs/design.md §1. `since_rotation` is how long ago generation `current` became current;
/// the grace window is measured from that rotation, so it never slides. The caller measures it
/// on every clock it has and passes the longest, so no skewed clock can widen the window.
pub fn decide(
    presented: u64,
    current: u64,
    since_rotation: Duration,
    grace: Duration,
) -> RefreshDecision {
    if presented == current {
        RefreshDecision::Rotate { from: presented }
    } else if presented.checked_add(1) == Some(current) && since_rotation < grace {
        RefreshDecision::Replay { current }
    } else {
        // Older generations, and (impossible without the key) future ones.
        RefreshDecision::Theft
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> RefreshKey {
        RefreshKey::new([4; 32])
    }

    #[test]
    fn tokens_round_trip_and_are_bound_to_session_generation_and_salt() {
        let session = SessionId(Uuid::from_u128(7));
        let token = key().mint(session, 3, b"salt");
        let text = token.expose();
        assert!(text.starts_with("hp_rt_"));
        let parsed = RefreshToken::parse(&text).unwrap();
        assert_eq!(parsed, token);
        assert_eq!((parsed.session, parsed.generation), (session, 3));
        assert!(parsed.is_authentic(&key(), b"salt"));
        assert!(!parsed.is_authentic(&key(), b"other salt"));
        assert!(!parsed.is_authentic(&RefreshKey::new([5; 32]), b"salt"));
        assert_ne!(key().mint(session, 4, b"salt").expose(), text);
        assert_eq!(format!("{token:?}"), "RefreshToken([redacted])");
    }

    #[test]
    fn a_forged_generation_fails_the_mac() {
        let token = key().mint(SessionId(Uuid::from_u128(7)), 3, b"salt");
        let mut forged = token.clone();
        forged.generation = 4;
        let reparsed = RefreshToken::parse(&forged.expose()).unwrap();
        assert!(!reparsed.is_authentic(&key(), b"salt"));
    }

    #[test]
    fn malformed_tokens_do_not_parse() {
        let good = key().mint(SessionId(Uuid::nil()), 1, b"s").expose();
        for bad in [
            "",
            "hp_rt_",
            &good[6..],
            &format!("{}A", *good),
            &good.replace("hp_rt_", "hp_st_"),
            "hp_rt_!!!!",
        ] {
            assert!(RefreshToken::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn the_state_machine() {
        let grace = Duration::seconds(10);
        let zero = Duration::ZERO;
        assert_eq!(
            decide(5, 5, zero, grace),
            RefreshDecision::Rotate { from: 5 }
        );
        assert_eq!(
            decide(5, 5, Duration::days(20), grace),
            RefreshDecision::Rotate { from: 5 }
        );
        assert_eq!(
            decide(4, 5, Duration::seconds(9), grace),
            RefreshDecision::Replay { current: 5 }
        );
        assert_eq!(
            decide(4, 5, Duration::seconds(10), grace),
            RefreshDecision::Theft
        );
        assert_eq!(decide(3, 5, zero, grace), RefreshDecision::Theft);
        assert_eq!(decide(6, 5, zero, grace), RefreshDecision::Theft);
        assert_eq!(decide(u64::MAX, 5, zero, grace), RefreshDecision::Theft);
    }
}
