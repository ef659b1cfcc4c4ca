//! Cross-site request forgery defence: both halves of docs/design.md §6.
//!
//! 1. The request must come from our own origin or an allowed one (`Sec-Fetch-Site`, else `Origin`).
//! 2. It must carry a token bound to the session by HMAC (or, before login, to a nonce cookie).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::{CsrfRejection, session::SessionId};

/// The key CSRF tokens are made with, derived from the server secret.
#[derive(Clone)]
pub struct CsrfKey([u8; 32]);

impl std::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfKey([redacted])")
    }
}

impl CsrfKey {
    /// Wraps a derived key.
    pub fn new(key: [u8; 32]) -> Self {
        Self(key)
    }

    fn mac(&self, domain: &[u8], data: &[u8]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(domain);
        mac.update(&[0]);
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// The CSRF token of a session: the same for the session's whole life, useless for any other.
    pub fn session_token(&self, session: SessionId) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(b"session", session.0.as_bytes()))
    }

    /// The token a login or signup form carries before there is a session, bound to a random
    /// nonce the browser holds in a cookie (login CSRF defence).
    pub fn presession_token(&self, nonce: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(b"presession", nonce.as_bytes()))
    }

    /// Checks a presented token against the session's, in constant time.
    pub fn verify_session(
        &self,
        session: SessionId,
        presented: Option<&str>,
    ) -> Result<(), CsrfRejection> {
        verify(&self.session_token(session), presented)
    }

    /// Checks a presented form token against the nonce cookie, in constant time.
    pub fn verify_presession(
        &self,
        nonce: Option<&str>,
        presented: Option<&str>,
    ) -> Result<(), CsrfRejection> {
        let nonce = nonce
            .filter(|n| !n.is_empty())
            .ok_or(CsrfRejection::WrongToken)?;
        verify(&self.presession_token(nonce), presented)
    }
}

fn verify(expected: &str, presented: Option<&str>) -> Result<(), CsrfRejection> {
    let presented = presented
        .filter(|p| !p.is_empty())
        .ok_or(CsrfRejection::MissingToken)?;
    if bool::from(expected.as_bytes().ct_eq(presented.as_bytes())) {
        Ok(())
    } else {
        Err(CsrfRejection::WrongToken)
    }
}

/// Which origins may make cookie-authenticated writes: our own and the configured list.
#[derive(Debug, Clone)]
pub struct OriginPolicy {
    trusted: Vec<String>,
}

impl OriginPolicy {
    /// `own` is the public URL's origin (`scheme://host[:port]`); `allowed` the extra origins.
    pub fn new(own: &str, allowed: &[String]) -> Self {
        let mut trusted = vec![own.to_ascii_lowercase()];
        trusted.extend(
            allowed
                .iter()
                .map(|o| o.trim_end_matches('/').to_ascii_lowercase()),
        );
        Self { trusted }
    }

    /// Whether `origin` (an `Origin` header value) is ours or allowed. `null` never is.
    pub fn is_trusted(&self, origin: &str) -> bool {
        let origin = origin.to_ascii_lowercase();
        self.trusted.contains(&origin)
    }

    /// The first half of the CSRF check. `Sec-Fetch-Site` is consulted first: browsers set it
    /// on every request and pages cannot forge it. `Origin` is the fallback for older browsers;
    /// a request with neither comes from a non-browser client, which cannot be made to send a
    /// victim's cookie, and must still pass the token half.
    pub fn check(
        &self,
        sec_fetch_site: Option<&str>,
        origin: Option<&str>,
    ) -> Result<(), CsrfRejection> {
        match sec_fetch_site {
            Some("same-origin" | "none") => Ok(()),
            Some(_) if origin.is_some_and(|o| self.is_trusted(o)) => Ok(()),
            Some(_) => Err(CsrfRejection::CrossSite),
            None => match origin {
                None => Ok(()),
                Some(o) if self.is_trusted(o) => Ok(()),
                Some(_) => Err(CsrfRejection::ForeignOrigin),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn session_tokens_bind_to_their_session() {
        let key = CsrfKey::new([9; 32]);
        let a = SessionId(Uuid::from_u128(1));
        let b = SessionId(Uuid::from_u128(2));
        let token = key.session_token(a);
        assert_eq!(key.verify_session(a, Some(&token)), Ok(()));
        assert_eq!(
            key.verify_session(b, Some(&token)),
            Err(CsrfRejection::WrongToken)
        );
        assert_eq!(
            key.verify_session(a, None),
            Err(CsrfRejection::MissingToken)
        );
        assert_eq!(
            key.verify_session(a, Some("")),
            Err(CsrfRejection::MissingToken)
        );
        let other_key = CsrfKey::new([8; 32]);
        assert_eq!(
            other_key.verify_session(a, Some(&token)),
            Err(CsrfRejection::WrongToken)
        );
    }

    #[test]
    fn presession_tokens_bind_to_the_nonce_cookie() {
        let key = CsrfKey::new([9; 32]);
        let token = key.presession_token("nonce-1");
        assert_eq!(key.verify_presession(Some("nonce-1"), Some(&token)), Ok(()));
        assert!(
            key.verify_presession(Some("nonce-2"), Some(&token))
                .is_err()
        );
        assert!(key.verify_presession(None, Some(&token)).is_err());
        assert!(key.verify_presession(Some("nonce-1"), None).is_err());
    }

    #[test]
    fn origin_policy() {
        let policy = OriginPolicy::new(
            "http://localhost:8080",
            &["https://app.example/".to_owned()],
        );
        assert_eq!(policy.check(Some("same-origin"), Some("null")), Ok(()));
        assert_eq!(policy.check(Some("none"), None), Ok(()));
        assert_eq!(
            policy.check(Some("cross-site"), Some("https://evil.example")),
            Err(CsrfRejection::CrossSite)
        );
        assert_eq!(
            policy.check(Some("same-site"), Some("http://localhost:9999")),
            Err(CsrfRejection::CrossSite)
        );
        assert_eq!(
            policy.check(Some("cross-site"), Some("https://APP.example")),
            Ok(())
        );
        assert_eq!(policy.check(None, None), Ok(()));
        assert_eq!(policy.check(None, Some("http://localhost:8080")), Ok(()));
        assert_eq!(
            policy.check(None, Some("null")),
            Err(CsrfRejection::ForeignOrigin)
        );
        assert_eq!(
            policy.check(None, Some("http://localhost:8080.evil")),
            Err(CsrfRejection::ForeignOrigin)
        );
    }
}
