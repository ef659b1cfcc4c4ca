//! Who may read the operations endpoints: exactly one `Authorization: Bearer` carrying the token
//! the operator configured (docs/operations.md, "Operations endpoints").

use axum::http::{HeaderMap, header};

use crate::{config::OpsAccess, error::ApiError};

/// Admits a request with exactly one `Authorization: Bearer <the token>`; anything else is 401
/// `unauthenticated`.
pub(crate) fn admit(access: &OpsAccess, headers: &HeaderMap) -> Result<(), ApiError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(ApiError::Unauthenticated);
    };
    let presented = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(ApiError::Unauthenticated)?;
    if access.matches(presented) {
        Ok(())
    } else {
        Err(ApiError::Unauthenticated)
    }
}
