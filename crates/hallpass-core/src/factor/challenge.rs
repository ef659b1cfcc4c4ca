//! The second step of a login: the `mfa_token` a correct first factor is answered with, in
//! place of a session, when the account has a second factor.

use std::fmt;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use time::Duration;
use zeroize::Zeroizing;

use crate::session::TokenHash;

/// How long the second step may take.
pub const MFA_CHALLENGE_TTL: Duration = Duration::minutes(5);

/// Wrong codes one challenge allows before it is void (each also counts toward the account
/// lockout, as a wrong password does).
pub const MFA_MAX_ATTEMPTS: u32 = 5;

const PREFIX: &str = "hp_mfa_";
const BODY_LEN: usize = 43;

/// The challenge's secret: `hp_mfa_` and 256 random bits. Only its SHA-256 is stored.
#[derive(Clone)]
pub struct MfaToken(Zeroizing<String>);

impl fmt::Debug for MfaToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MfaToken([redacted])")
    }
}

impl MfaToken {
    /// A token from 32 bytes of the operating system's randomness.
    pub fn from_random(bytes: [u8; 32]) -> Self {
        let mut token = String::with_capacity(PREFIX.len() + BODY_LEN);
        token.push_str(PREFIX);
        URL_SAFE_NO_PAD.encode_string(bytes, &mut token);
        Self(Zeroizing::new(token))
    }

    /// Parses a presented token; anything but the exact shape is refused before any lookup.
    pub fn parse(input: &str) -> Option<Self> {
        let body = input.trim().strip_prefix(PREFIX)?;
        let well_formed = body.len() == BODY_LEN
            && URL_SAFE_NO_PAD
                .decode(body)
                .is_ok_and(|bytes| bytes.len() == 32);
        well_formed.then(|| Self(Zeroizing::new(format!("{PREFIX}{body}"))))
    }

    /// The token itself, for the response.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// SHA-256 of the token.
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_shape_parses() {
        let token = MfaToken::from_random([7; 32]);
        let parsed = MfaToken::parse(token.expose()).unwrap();
        assert_eq!(parsed.hash(), token.hash());
        assert!(MfaToken::parse(&token.expose()[..20]).is_none());
        assert!(MfaToken::parse("hp_et_AAAA").is_none());
        assert_eq!(format!("{token:?}"), "MfaToken([redacted])");
    }
}
