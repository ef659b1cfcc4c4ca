//! The device cookie: set after a successful password login, presented on the next ones, so the
//! account lockout caused by someone else's wrong guesses does not lock the owner's browser out
//! (see `hallpass_core::device` and docs/operations.md "Brute force and lockout").

use axum::http::{HeaderMap, HeaderValue, header};
use cookie::{Cookie, SameSite};
use hallpass_core::{
    device::{DeviceId, DeviceToken},
    user::UserId,
};

use crate::{error::ApiError, state::AppState};

/// The cookie's base name; `__Host-` prefixed under https.
const DEVICE: &str = "hallpass_device";
/// How long a browser stays a known device after its last successful login.
pub(crate) const DEVICE_COOKIE_LIFETIME: time::Duration = time::Duration::days(365);

fn name(secure: bool) -> String {
    if secure {
        format!("__Host-{DEVICE}")
    } else {
        DEVICE.to_owned()
    }
}

/// The device token this request presents, if it presents exactly one device cookie and it is
/// genuine and unexpired. A missing, duplicated, forged or expired cookie is no device: the
/// attempt is then judged as one from anywhere else, so nothing here needs an error.
pub(crate) fn presented(state: &AppState, headers: &HeaderMap) -> Option<DeviceToken> {
    let wanted = name(state.config.secure_cookies);
    let mut values = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| Cookie::split_parse(v).flatten())
        .filter(|c| c.name() == wanted)
        .map(|c| c.value().to_owned());
    let value = values.next()?;
    if values.next().is_some() {
        // Two copies: one may have been tossed in by a sibling site; trust neither.
        return None;
    }
    state.keys.device.open(
        &value,
        state.clock.now(),
        DEVICE_COOKIE_LIFETIME,
        state.config.clock_skew,
    )
}

/// `Set-Cookie` naming this browser a known device of `user`: the device it already was for
/// that user (so its failure count carries over), or a new one.
pub(crate) fn issue(
    state: &AppState,
    user: UserId,
    presented: Option<&DeviceToken>,
) -> Result<HeaderValue, ApiError> {
    let device = match presented.filter(|token| token.user == user) {
        Some(token) => token.device,
        None => DeviceId::from_random(crate::infra::random::random_bytes()?),
    };
    let now = state.clock.now();
    let token = DeviceToken {
        user,
        device,
        issued_at: now.replace_nanosecond(0).unwrap_or(now),
    };
    let cookie = Cookie::build((
        name(state.config.secure_cookies),
        state.keys.device.seal(&token),
    ))
    .http_only(true)
    // Lax like every hallpass cookie: it only matters on login POSTs, which Lax already keeps
    // from other sites' forms (and Strict would add nothing for sibling ports, the same site).
    .same_site(SameSite::Lax)
    .path("/")
    .secure(state.config.secure_cookies)
    .max_age(DEVICE_COOKIE_LIFETIME)
    .build();
    HeaderValue::try_from(cookie.to_string())
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("device cookie: {e}")))
}
