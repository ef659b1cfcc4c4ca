//! Authenticator-app codes: RFC 6238 with what every app reads (SHA-1, six digits, 30-second
//! steps), a code accepted one step either side of now. The secret is sealed at rest with
//! AES-256-GCM under a key derived from the server secret, bound to its factor's id, as the
//! signing keys are.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use time::OffsetDateTime;
use totp_rs::{Algorithm, Builder, Secret, Totp};
use zeroize::Zeroizing;

use super::FactorId;

/// Secret bytes: 160 bits, RFC 4226's recommendation and what apps expect.
pub const TOTP_SECRET_BYTES: usize = 20;
/// Seconds per step.
pub const TOTP_STEP_SECONDS: u64 = 30;

/// Why a sealed secret or an enrollment URI could not be made or read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TotpError {
    /// The sealed secret does not open with this key and factor (a wrong server secret, or a
    /// row copied to another factor).
    #[error("the authenticator secret does not open with this server secret")]
    WrongKey,
    /// The crypto library refused (not expected).
    #[error("sealing the authenticator secret failed")]
    Crypto,
    /// The issuer or account name cannot go in an `otpauth://` URI (a `:`, or empty).
    #[error("cannot make the enrollment URI: {0}")]
    Uri(String),
}

/// The key TOTP secrets are sealed with, derived from the server secret. Prints `[redacted]`.
#[derive(Clone, zeroize::ZeroizeOnDrop)]
pub struct TotpSealKey([u8; 32]);

impl fmt::Debug for TotpSealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSealKey([redacted])")
    }
}

impl TotpSealKey {
    /// The key from its 32 bytes ([`SecretKey::derive`](crate::secret::SecretKey::derive)).
    pub fn new(key: [u8; 32]) -> Self {
        Self(key)
    }
}

/// A TOTP secret. Prints `[redacted]`.
#[derive(Clone)]
pub struct TotpSecret(Zeroizing<[u8; TOTP_SECRET_BYTES]>);

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret([redacted])")
    }
}

impl TotpSecret {
    /// A secret from random bytes.
    pub fn from_random(bytes: [u8; TOTP_SECRET_BYTES]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    fn totp(&self, issuer: Option<&str>, account: &str) -> Result<Totp, TotpError> {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_skew(1)
            .with_step_duration(TOTP_STEP_SECONDS)
            .with_secret(*self.0)
            .with_issuer(issuer)
            .with_account_name(account)
            .build()
            .map_err(|e| TotpError::Uri(e.to_string()))
    }

    /// A secret from its base32 form (as an app shows it); `None` unless it is 160 bits.
    pub fn from_base32(text: &str) -> Option<Self> {
        let bytes = Secret::try_from_base32(text.trim()).ok()?;
        let bytes: [u8; TOTP_SECRET_BYTES] = bytes.as_bytes().try_into().ok()?;
        Some(Self::from_random(bytes))
    }

    /// The secret in base32, for typing into an app by hand.
    pub fn base32(&self) -> String {
        Secret::from(*self.0).to_base32()
    }

    /// The `otpauth://totp/…` URI the QR code carries.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> Result<String, TotpError> {
        if account.is_empty() {
            return Err(TotpError::Uri("empty account name".to_owned()));
        }
        self.totp(Some(issuer), account)?
            .to_url()
            .map_err(|e| TotpError::Uri(e.to_string()))
    }

    /// The time step a typed code matches, at most one step from `now`'s; `None` for a wrong
    /// code or anything but six digits (spaces are ignored: "123 456"). Compared in constant
    /// time. The caller refuses a step it accepted before (replay).
    pub fn check(&self, code: &str, now: OffsetDateTime) -> Option<u64> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let now = u64::try_from(now.unix_timestamp()).ok()?;
        // Account names only label the URI; any valid one will do for checking.
        self.totp(None, "-").ok()?.check(&code, now)
    }

    /// The code for `now` (tests, and the enrollment page's own check).
    pub fn code_at(&self, now: OffsetDateTime) -> Option<String> {
        let now = u64::try_from(now.unix_timestamp()).ok()?;
        Some(self.totp(None, "-").ok()?.generate(now).to_string())
    }

    /// Seals the secret for storage: `nonce ‖ ciphertext ‖ tag`, bound to `factor`.
    pub fn seal(
        &self,
        key: &TotpSealKey,
        factor: FactorId,
        nonce: [u8; NONCE_LEN],
    ) -> Result<Vec<u8>, TotpError> {
        let mut in_out = self.0.to_vec();
        aead_key(key)?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(factor)),
                &mut in_out,
            )
            .map_err(|_| TotpError::Crypto)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&in_out);
        Ok(out)
    }

    /// Opens a sealed secret.
    pub fn open(sealed: &[u8], key: &TotpSealKey, factor: FactorId) -> Result<Self, TotpError> {
        let (nonce, ciphertext) = sealed
            .split_at_checked(NONCE_LEN)
            .ok_or(TotpError::WrongKey)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| TotpError::WrongKey)?;
        let mut in_out = Zeroizing::new(ciphertext.to_vec());
        let plain = aead_key(key)?
            .open_in_place(nonce, Aad::from(aad(factor)), &mut in_out)
            .map_err(|_| TotpError::WrongKey)?;
        let bytes: [u8; TOTP_SECRET_BYTES] = plain.try_into().map_err(|_| TotpError::WrongKey)?;
        Ok(Self(Zeroizing::new(bytes)))
    }
}

fn aead_key(key: &TotpSealKey) -> Result<LessSafeKey, TotpError> {
    UnboundKey::new(&AES_256_GCM, &key.0)
        .map(LessSafeKey::new)
        .map_err(|_| TotpError::Crypto)
}

fn aad(factor: FactorId) -> Vec<u8> {
    format!("hallpass totp secret\0{factor}").into_bytes()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;

    fn at(unix: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(unix).unwrap()
    }

    /// RFC 6238 appendix B, SHA-1, through the same library at eight digits.
    #[test]
    fn rfc_6238_sha1_vectors() {
        let totp = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(8)
            .with_skew(0)
            .with_step_duration(30)
            .with_secret(*b"12345678901234567890")
            .build()
            .unwrap();
        for (t, want) in [
            (59_u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(totp.generate(t).to_string(), want, "t = {t}");
        }
    }

    #[test]
    fn six_digit_codes_match_one_step_either_side() {
        let secret = TotpSecret::from_random(*b"12345678901234567890");
        let now = datetime!(2026-12-08 12:00:15 UTC);
        let step = u64::try_from(now.unix_timestamp()).unwrap() / 30;
        let code = secret.code_at(now).unwrap();
        assert_eq!(code.len(), 6);
        assert_eq!(secret.check(&code, now), Some(step));
        assert_eq!(
            secret.check(&format!("{} {}", &code[..3], &code[3..]), now),
            Some(step)
        );
        assert_eq!(
            secret.check(&code, now + time::Duration::seconds(30)),
            Some(step)
        );
        assert_eq!(
            secret.check(&code, now - time::Duration::seconds(30)),
            Some(step)
        );
        assert_eq!(secret.check(&code, now + time::Duration::seconds(60)), None);
        for bad in ["", "12345", "1234567", "12a456", "+12345"] {
            assert_eq!(secret.check(bad, now), None, "{bad}");
        }
        // RFC 6238's first vector, truncated to six digits: 94287082 -> 287082.
        assert_eq!(secret.check("287082", at(59)), Some(1));
    }

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_factor() {
        let secret = TotpSecret::from_random([9; 20]);
        let factor = FactorId(Uuid::from_u128(1));
        let key = TotpSealKey::new([3; 32]);
        let sealed = secret.seal(&key, factor, [1; 12]).unwrap();
        let opened = TotpSecret::open(&sealed, &key, factor).unwrap();
        assert_eq!(opened.base32(), secret.base32());
        assert_eq!(
            TotpSecret::from_base32(&secret.base32()).unwrap().base32(),
            secret.base32()
        );
        assert!(TotpSecret::from_base32("ABCD").is_none());
        assert_eq!(
            TotpSecret::open(&sealed, &TotpSealKey::new([4; 32]), factor).unwrap_err(),
            TotpError::WrongKey
        );
        assert_eq!(
            TotpSecret::open(&sealed, &key, FactorId(Uuid::from_u128(2))).unwrap_err(),
            TotpError::WrongKey
        );
        assert_eq!(
            TotpSecret::open(&sealed[..10], &key, factor).unwrap_err(),
            TotpError::WrongKey
        );
        assert_eq!(format!("{secret:?}"), "TotpSecret([redacted])");
    }

    #[test]
    fn the_uri_is_what_apps_read() {
        let secret = TotpSecret::from_random(*b"12345678901234567890");
        let uri = secret.otpauth_uri("auth.example.com", "alice").unwrap();
        assert_eq!(
            uri,
            format!(
                "otpauth://totp/auth.example.com:alice?secret={}&issuer=auth.example.com",
                secret.base32()
            )
        );
        assert!(secret.otpauth_uri("a:b", "alice").is_err());
        assert!(secret.otpauth_uri("x", "").is_err());
    }
}
