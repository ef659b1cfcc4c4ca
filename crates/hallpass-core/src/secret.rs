//! The server secret and the keys derived from it.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The 256-bit secret every node of a deployment shares. Never used directly: each purpose gets
/// its own key derived by [`SecretKey::derive`].
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey([redacted])")
    }
}

/// A key file's contents could not be read as a secret key.
#[derive(Debug, thiserror::Error)]
#[error("the secret key must be 64 hexadecimal characters (32 bytes)")]
pub struct MalformedSecretKey;

impl SecretKey {
    /// A secret key from 32 random bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Parses the key file format: 64 hexadecimal characters, surrounding whitespace ignored.
    pub fn parse(text: &str) -> Result<Self, MalformedSecretKey> {
        let text = text.trim();
        if text.len() != 64 || !text.is_ascii() {
            return Err(MalformedSecretKey);
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            let pair = text.get(2 * i..2 * i + 2).ok_or(MalformedSecretKey)?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| MalformedSecretKey)?;
        }
        Ok(Self(bytes))
    }

    /// The key file format of this key.
    pub fn to_file_contents(&self) -> String {
        let mut out: String = self.0.iter().map(|b| format!("{b:02x}")).collect();
        out.push('\n');
        out
    }

    /// A key for one purpose, HMAC-SHA256(secret, purpose), so that a key leaked from one use
    /// (say, CSRF) reveals nothing about another.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_format_round_trips() {
        let key = SecretKey::from_bytes([7; 32]);
        let parsed = SecretKey::parse(&key.to_file_contents()).unwrap();
        assert_eq!(parsed.derive("x"), key.derive("x"));
    }

    #[test]
    fn malformed_files_are_refused() {
        assert!(SecretKey::parse("abc").is_err());
        assert!(SecretKey::parse(&"zz".repeat(32)).is_err());
        assert!(SecretKey::parse(&"é".repeat(32)).is_err());
    }

    #[test]
    fn purposes_get_different_keys_and_debug_hides_the_secret() {
        let key = SecretKey::from_bytes([1; 32]);
        assert_ne!(key.derive("csrf"), key.derive("refresh"));
        assert_eq!(format!("{key:?}"), "SecretKey([redacted])");
    }
}
