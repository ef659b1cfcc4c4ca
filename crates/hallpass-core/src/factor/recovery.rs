//! Recovery codes: ten single-use codes shown once, for when the authenticator is lost. Each is
//! ten characters of Crockford's base32 (50 random bits), shown as `xxxxx-xxxxx`, stored as
//! SHA-256: random codes tried under the account lockout need no slow hash.

use std::fmt;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::session::TokenHash;

/// Codes in a set.
pub const RECOVERY_CODES: usize = 10;

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const CHARS: usize = 10;

/// One recovery code, normalised (lower case, no separator).
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(Zeroizing<String>);

impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCode([redacted])")
    }
}

impl RecoveryCode {
    /// A code from random bytes (the low five bits of each of ten bytes).
    pub fn from_random(bytes: [u8; CHARS]) -> Self {
        let code: String = bytes
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
            .collect();
        Self(Zeroizing::new(code))
    }

    /// Reads a typed code: case, spaces and dashes do not matter, and the letters Crockford's
    /// alphabet leaves out for looking like digits are read as those digits (`o` as 0, `i` and
    /// `l` as 1). `None` unless exactly ten code characters remain.
    pub fn parse(input: &str) -> Option<Self> {
        let mut code = String::with_capacity(CHARS);
        for c in input.chars() {
            let c = match c.to_ascii_lowercase() {
                ' ' | '-' => continue,
                'o' => '0',
                'i' | 'l' => '1',
                c => c,
            };
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
                return None;
            }
            code.push(c);
        }
        (code.len() == CHARS).then(|| Self(Zeroizing::new(code)))
    }

    /// The code as shown: `xxxxx-xxxxx`.
    pub fn display(&self) -> String {
        format!("{}-{}", &self.0[..5], &self.0[5..])
    }

    /// SHA-256 of the normalised code.
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_codes_normalise_to_the_same_hash() {
        let code = RecoveryCode::from_random([0, 1, 2, 3, 4, 27, 28, 29, 30, 31]);
        assert_eq!(code.display(), "01234-vwxyz");
        for typed in ["01234-vwxyz", "O1234 VWXYZ", "oi234vwxyz", " 0l234-VWXYZ "] {
            assert_eq!(
                RecoveryCode::parse(typed).map(|c| c.hash()),
                Some(code.hash()),
                "{typed}"
            );
        }
        for bad in [
            "01234-vwxy",
            "01234-vwxyzz",
            "01234-vwxyu",
            "0123é-vwxyz",
            "",
        ] {
            assert!(RecoveryCode::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(format!("{code:?}"), "RecoveryCode([redacted])");
    }
}
