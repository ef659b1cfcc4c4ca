//! Binding a browser's refresh cookie to a cookie no sibling site can set.
//!
//! The refresh cookie is scoped to `Path=/v1/token`, so under https it can only be
//! `__Secure-`, and a `__Secure-` cookie can be planted by any sibling subdomain (a `Domain=`
//! cookie from `evil.example.com` reaches `auth.example.com`). A planted refresh cookie holding
//! the attacker's own refresh token would sign the victim's single-page app into the attacker's
//! account. So hallpass sets, with every refresh cookie, a companion `__Host-` cookie (which only
//! hallpass's own host can set) whose value is a MAC of the session the refresh token belongs
//! to; a cookie refresh is taken only from a refresh cookie whose session the companion names.
//! Bound to the session rather than to one generation, the companion stays valid through
//! rotation and through concurrent refreshes, and it is worthless without the refresh token.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::session::SessionId;

/// The key refresh-cookie bindings are made with, derived from the server secret.
#[derive(Clone)]
pub struct RefreshBindingKey([u8; 32]);

impl std::fmt::Debug for RefreshBindingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshBindingKey([redacted])")
    }
}

impl RefreshBindingKey {
    /// Wraps a derived key.
    pub fn new(key: [u8; 32]) -> Self {
        Self(key)
    }

    fn mac(&self, session: SessionId) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(b"refresh-binding");
        mac.update(&[0]);
        mac.update(session.0.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The companion cookie's value for a refresh token of `session`.
    pub fn binding(&self, session: SessionId) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(session))
    }

    /// Whether `presented` is the binding of `session`, compared in constant time.
    pub fn matches(&self, session: SessionId, presented: &str) -> bool {
        bool::from(self.binding(session).as_bytes().ct_eq(presented.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binding_matches_only_its_session_and_key() {
        let key = RefreshBindingKey::new([3; 32]);
        let (a, b) = (
            SessionId(uuid::Uuid::new_v4()),
            SessionId(uuid::Uuid::new_v4()),
        );
        let bound = key.binding(a);
        assert!(key.matches(a, &bound));
        assert!(!key.matches(b, &bound));
        assert!(!RefreshBindingKey::new([4; 32]).matches(a, &bound));
        assert!(!key.matches(a, "") && !key.matches(a, &bound[1..]));
    }
}
