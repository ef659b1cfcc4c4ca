//! The device cookie: set after a successful password login, presented on the next ones, so the
//! account lockout caused by someone else's wrong guesses does not lock the owner's browser out
//! (see `hallpass_core::device` and docs/operations.md "Brute force and lockout").

use axum::http::{HeaderMap, HeaderValue};
use hallpass_core::{
    device::{DeviceId, DeviceToken},
    user::UserId,
};

use crate::{error::ApiError, http::cookies, state::AppState};

/// How long a browser stays a known device after its last successful login.
pub(crate) const DEVICE_COOKIE_LIFETIME: time::Duration = time::Duration::days(365);

/// The device token this request presents, if it presents exactly one device cookie and it is
/// genuine and unexpired. A missing, duplicated, forged or expired cookie is no device: the
/// attempt is then judged as one from anywhere else, so nothing here needs an error.
pub(crate) fn presented(state: &AppState, headers: &HeaderMap) -> Option<DeviceToken> {
    let value = cookies::read_device(headers, &state.config)?;
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
    Ok(cookies::device_cookie(
        &state.config,
        state.keys.device.seal(&token),
        DEVICE_COOKIE_LIFETIME,
    ))
}
