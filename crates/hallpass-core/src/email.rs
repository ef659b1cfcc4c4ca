//! Emailed proofs: the single-use link token and the short code a mail carries, what each is
//! for, and the address rules they rely on. Only hashes of either ever reach the store.

use std::fmt;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{session::TokenHash, user::Email};

/// What an emailed token proves when it comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmailPurpose {
    /// The account's current address receives mail.
    Verify,
    /// The holder may set a new password.
    Reset,
    /// The account's new address receives mail: the change takes effect.
    ChangeEmail,
    /// The holder of the address may sign in without a password.
    Login,
}

impl EmailPurpose {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verify => "verify",
            Self::Reset => "reset",
            Self::ChangeEmail => "change_email",
            Self::Login => "login",
        }
    }

    /// The purpose with this stored name.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Verify, Self::Reset, Self::ChangeEmail, Self::Login]
            .into_iter()
            .find(|p| p.as_str() == name)
    }
}

const EMAIL_TOKEN_PREFIX: &str = "hp_et_";
const EMAIL_TOKEN_BODY_LEN: usize = 43;

/// The secret in an emailed link: `hp_et_` and 256 random bits. Only its SHA-256 is stored.
#[derive(Clone)]
pub struct EmailToken(Zeroizing<String>);

impl fmt::Debug for EmailToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EmailToken([redacted])")
    }
}

impl EmailToken {
    /// A token from 32 bytes of the operating system's randomness.
    pub fn from_random(bytes: [u8; 32]) -> Self {
        let mut token = String::with_capacity(EMAIL_TOKEN_PREFIX.len() + EMAIL_TOKEN_BODY_LEN);
        token.push_str(EMAIL_TOKEN_PREFIX);
        URL_SAFE_NO_PAD.encode_string(bytes, &mut token);
        Self(Zeroizing::new(token))
    }

    /// Parses a presented token; anything but the exact shape (a truncated link, say) is refused
    /// before any lookup.
    pub fn parse(input: &str) -> Option<Self> {
        let body = input.trim().strip_prefix(EMAIL_TOKEN_PREFIX)?;
        let well_formed = body.len() == EMAIL_TOKEN_BODY_LEN
            && URL_SAFE_NO_PAD
                .decode(body)
                .is_ok_and(|bytes| bytes.len() == 32);
        well_formed.then(|| Self(Zeroizing::new(format!("{EMAIL_TOKEN_PREFIX}{body}"))))
    }

    /// The token itself, for the link.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// SHA-256 of the token: 256 random bits need no salt or slow hash.
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

/// Digits in an emailed code.
pub const EMAIL_CODE_DIGITS: usize = 6;

/// The short code a mail carries beside its link, for apps that would rather have the user type
/// it. Six digits are guessable in a million tries, so a code is only ever checked against one
/// account's one live token, with few attempts allowed (the store voids the token after them).
#[derive(Clone)]
pub struct EmailCode(Zeroizing<String>);

impl fmt::Debug for EmailCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EmailCode([redacted])")
    }
}

impl EmailCode {
    /// A uniformly drawn code from 8 random bytes (the modulo bias of 2^64 mod 10^6 is nil).
    pub fn from_random(bytes: [u8; 8]) -> Self {
        let n = u64::from_le_bytes(bytes) % 1_000_000;
        Self(Zeroizing::new(format!("{n:06}")))
    }

    /// Parses a typed code: six digits, spaces and dashes ignored.
    pub fn parse(input: &str) -> Option<Self> {
        let digits: String = input.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        (digits.len() == EMAIL_CODE_DIGITS && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| Self(Zeroizing::new(digits)))
    }

    /// The code, for the mail.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// HMAC-SHA-256 under `key`: unlike a token, a code is too short to store as a plain hash
    /// (a copy of the database would give it away in a million hashes).
    pub fn hash(&self, key: &EmailCodeKey) -> TokenHash {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.0.as_slice())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(self.0.as_bytes());
        TokenHash(mac.finalize().into_bytes().into())
    }
}

/// The key emailed codes are hashed under, derived from the server secret.
#[derive(Clone)]
pub struct EmailCodeKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for EmailCodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EmailCodeKey([redacted])")
    }
}

impl EmailCodeKey {
    /// Wraps derived key material.
    pub fn new(key: [u8; 32]) -> Self {
        Self(Zeroizing::new(key))
    }
}

/// How addresses are compared for uniqueness and lookup: ASCII letters folded to lower case in
/// the whole address. The store's unique index folds the same way.
pub fn email_key(email: &Email) -> String {
    email.as_str().to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_other_shapes() {
        let token = EmailToken::from_random([7; 32]);
        let parsed = EmailToken::parse(token.expose()).expect("own token parses");
        assert!(parsed.hash() == token.hash());
        let truncated = &token.expose()[..token.expose().len() - 1];
        assert!(EmailToken::parse(truncated).is_none());
        assert!(EmailToken::parse("hp_st_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").is_none());
        assert!(EmailToken::parse("").is_none());
        assert_eq!(format!("{token:?}"), "EmailToken([redacted])");
    }

    #[test]
    fn codes_are_six_digits_and_hash_under_the_key() {
        let code = EmailCode::from_random([255; 8]);
        assert_eq!(code.expose().len(), 6);
        assert!(EmailCode::parse("123 456").is_some());
        assert!(EmailCode::parse("12345").is_none());
        assert!(EmailCode::parse("12345a").is_none());
        let a = EmailCodeKey::new([1; 32]);
        let b = EmailCodeKey::new([2; 32]);
        let typed = EmailCode::parse(code.expose()).expect("parses");
        assert!(typed.hash(&a) == code.hash(&a));
        assert!(typed.hash(&b) != code.hash(&a));
    }

    #[test]
    fn purposes_round_trip() {
        for p in [
            EmailPurpose::Verify,
            EmailPurpose::Reset,
            EmailPurpose::ChangeEmail,
            EmailPurpose::Login,
        ] {
            assert_eq!(EmailPurpose::parse(p.as_str()), Some(p));
        }
    }
}
