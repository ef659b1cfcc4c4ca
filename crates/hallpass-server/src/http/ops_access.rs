//! Who may read the operations endpoints: a bearer token the operator configured, compared by
//! digest in constant time (docs/operations.md, "Operations endpoints").

use axum::http::{HeaderMap, header};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{config::OpsToken, error::ApiError};

/// The digest of a configured operations token; the token itself is not kept.
#[derive(Clone)]
pub struct OpsAccess {
    digest: [u8; 32],
}

impl OpsAccess {
    /// Keeps the digest of `token`.
    pub fn new(token: &OpsToken) -> Self {
        Self {
            digest: Sha256::digest(token.expose().as_bytes()).into(),
        }
    }

    /// Admits a request with exactly one `Authorization: Bearer <the token>`; anything else is
    /// 401 `unauthenticated`.
    pub fn admit(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let mut values = headers.get_all(header::AUTHORIZATION).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            return Err(ApiError::Unauthenticated);
        };
        let presented = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthenticated)?;
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        if bool::from(digest.ct_eq(&self.digest)) {
            Ok(())
        } else {
            Err(ApiError::Unauthenticated)
        }
    }
}

impl std::fmt::Debug for OpsAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpsAccess([redacted])")
    }
}
