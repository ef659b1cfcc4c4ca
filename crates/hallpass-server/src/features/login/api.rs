//! `POST /v1/login`: JSON credentials in, a session cookie out.

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, header},
    response::{AppendHeaders, IntoResponse, Response},
};
use hallpass_core::session::SessionKind;
use serde::{Deserialize, Serialize};

use super::ops;
use crate::{
    error::ApiError,
    http::{
        cookies, device_cookie,
        extract::{AppJson, check_origin, resolve},
        json::{SessionJson, UserJson},
    },
    operation::Client,
    state::AppState,
};

#[derive(Deserialize)]
pub(crate) struct LoginRequest {
    username: String,
    password: String,
}

#[derive(Serialize)]
struct LoginResponse {
    user: UserJson,
    session: SessionJson,
    csrf_token: String,
}

/// A JSON body needs no pre-session token: a foreign page cannot send `application/json`
/// without a CORS preflight, and the origin is checked as for any write.
pub(crate) async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    AppJson(body): AppJson<LoginRequest>,
) -> Result<Response, ApiError> {
    check_origin(&state, &headers)?;
    // A cookie presented here is not authentication, only a session to replace.
    let previous = resolve(&state, &headers)
        .await
        .ok()
        .flatten()
        .map(|caller| caller.session);
    let device = device_cookie::presented(&state, &headers);
    let outcome = ops::login(
        &state,
        &body.username,
        &body.password,
        &client,
        previous.as_ref(),
        SessionKind::Cookie,
        device.as_ref(),
    )
    .await?;
    let device = device_cookie::issue(&state, outcome.user.id, device.as_ref())?;
    let response = LoginResponse {
        user: UserJson::from(&outcome.user),
        session: SessionJson::new(&outcome.session, &state.config.session_policy, true),
        csrf_token: state.keys.csrf.session_token(outcome.session.id),
    };
    Ok((
        AppendHeaders([
            (
                header::SET_COOKIE,
                cookies::session_cookie(&state.config, outcome.token.expose()),
            ),
            (header::SET_COOKIE, device),
        ]),
        Json(response),
    )
        .into_response())
}
