//! The login in progress between the redirect to a provider and its callback, kept by the
//! browser that started it: a short-lived HttpOnly cookie, sealed (AES-256-GCM under a key
//! derived from the server secret), so any node can read it, nobody can forge or read it, and
//! a callback arriving in another browser finds no matching transaction (login CSRF, session
//! fixation across users).

use aws_lc_rs::{
    aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey},
    rand::{SecureRandom, SystemRandom},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use uuid::Uuid;

/// How long a user may spend at the provider before the transaction expires.
pub(crate) const PENDING_LIFETIME: time::Duration = time::Duration::minutes(10);

/// Bound into every sealed transaction, so a ciphertext made for another purpose never opens.
const AAD: &[u8] = b"hallpass/pending-login/v1";

/// What the callback needs to finish the login it was started for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLogin {
    /// The provider's name.
    pub provider: String,
    /// The `state` sent to the provider; the callback must bring it back.
    pub state: String,
    /// The ID token's expected `nonce`.
    pub nonce: String,
    /// The PKCE code verifier.
    pub verifier: String,
    /// Where to go afterwards: a local path, or in token mode a page of an allowed origin
    /// (checked when the login started).
    pub next: String,
    /// Token mode: the login opens a token session for a single-page app (the refresh token in
    /// its HttpOnly cookie) instead of a cookie session for hallpass's pages.
    #[serde(default)]
    pub tokens: bool,
    /// Set when a logged-in user is linking this provider to their account.
    pub link_to: Option<Uuid>,
    /// Unix seconds after which the transaction is dead.
    pub expires_at: i64,
}

impl PendingLogin {
    /// What marks this transaction spent in the store: SHA-256 of its `state` (random per
    /// transaction), so the store never holds the state itself.
    pub fn state_hash(&self) -> [u8; 32] {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, self.state.as_bytes());
        let mut hash = [0u8; 32];
        hash.copy_from_slice(digest.as_ref());
        hash
    }

    /// Until when the spent mark must be kept: past the transaction's expiry by twice the clock
    /// skew nodes may have (one node may still take it for unexpired while another, running
    /// ahead, prunes), and a lifetime more for good measure.
    pub fn spent_mark_until(&self, clock_skew: time::Duration) -> time::OffsetDateTime {
        let expires = time::OffsetDateTime::from_unix_timestamp(self.expires_at)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        expires + clock_skew.abs() * 2 + PENDING_LIFETIME
    }

    /// Whether `presented` is this transaction's state, compared in constant time.
    pub fn state_matches(&self, presented: &str) -> bool {
        bool::from(self.state.as_bytes().ct_eq(presented.as_bytes()))
    }
}

/// The key pending logins are sealed with.
#[derive(Clone)]
pub struct PendingKey([u8; 32]);

impl std::fmt::Debug for PendingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PendingKey([redacted])")
    }
}

/// A sealed transaction could not be made or opened.
#[derive(Debug, thiserror::Error)]
pub enum PendingError {
    /// The operating system had no randomness, or the cipher failed.
    #[error("sealing the pending login failed")]
    Seal,
    /// Not a transaction this server sealed (tampered, truncated, another key).
    #[error("the pending login is not valid")]
    Invalid,
}

impl PendingKey {
    /// Wraps a key derived from the server secret.
    pub fn new(key: [u8; 32]) -> Self {
        Self(key)
    }

    fn cipher(&self) -> Result<LessSafeKey, PendingError> {
        UnboundKey::new(&AES_256_GCM, &self.0)
            .map(LessSafeKey::new)
            .map_err(|_| PendingError::Seal)
    }

    /// The cookie value for `pending`: base64url(nonce ‖ ciphertext ‖ tag).
    pub fn seal(&self, pending: &PendingLogin) -> Result<String, PendingError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| PendingError::Seal)?;
        let mut data = serde_json::to_vec(pending).map_err(|_| PendingError::Seal)?;
        self.cipher()?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(AAD),
                &mut data,
            )
            .map_err(|_| PendingError::Seal)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    /// Opens a cookie value sealed by [`PendingKey::seal`].
    pub fn open(&self, value: &str) -> Result<PendingLogin, PendingError> {
        let raw = URL_SAFE_NO_PAD
            .decode(value)
            .map_err(|_| PendingError::Invalid)?;
        if raw.len() <= NONCE_LEN {
            return Err(PendingError::Invalid);
        }
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| PendingError::Invalid)?;
        let mut sealed = sealed.to_vec();
        let plain = self
            .cipher()?
            .open_in_place(nonce, Aad::from(AAD), &mut sealed)
            .map_err(|_| PendingError::Invalid)?;
        serde_json::from_slice(plain).map_err(|_| PendingError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending() -> PendingLogin {
        PendingLogin {
            provider: "corp".to_owned(),
            state: "state".to_owned(),
            nonce: "nonce".to_owned(),
            verifier: "verifier".to_owned(),
            next: "/account".to_owned(),
            tokens: false,
            link_to: None,
            expires_at: 1_000,
        }
    }

    #[test]
    fn a_sealed_login_opens_only_with_its_key_and_unchanged() {
        let key = PendingKey::new([7; 32]);
        let sealed = key.seal(&pending()).unwrap();
        assert_eq!(key.open(&sealed).unwrap(), pending());
        assert!(
            !sealed.contains("verifier"),
            "the contents are not readable"
        );
        assert!(PendingKey::new([8; 32]).open(&sealed).is_err());
        let mut bytes = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(key.open(&URL_SAFE_NO_PAD.encode(bytes)).is_err());
        assert!(key.open("").is_err() && key.open("!!").is_err());
    }

    #[test]
    fn state_is_compared_exactly() {
        let p = pending();
        assert!(p.state_matches("state"));
        assert!(!p.state_matches("stat") && !p.state_matches("statE") && !p.state_matches(""));
    }
}
