//! `POST /v1/login`: JSON credentials in, a session cookie out; and `POST /v1/login/mfa`, the
//! second step for an account with a second factor.

use axum::{extract::State, http::HeaderMap, response::Response};
use hallpass_core::session::SessionKind;
use serde::Deserialize;

use super::{
    ops,
    respond::{mfa_required, proof, session_response},
    second_step::{self, SignIn},
};
use crate::{
    error::ApiError,
    http::{
        device_cookie,
        extract::{AppJson, check_origin, resolve},
    },
    operation::Client,
    state::AppState,
};

#[derive(Deserialize)]
pub(crate) struct LoginRequest {
    username: String,
    password: String,
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
    let signed_in = ops::login(
        &state,
        &body.username,
        &body.password,
        &client,
        previous.as_ref(),
        SessionKind::Cookie,
        device.as_ref(),
    )
    .await?;
    match signed_in {
        SignIn::Done(outcome) => {
            let device = device_cookie::issue(&state, outcome.user.id, device.as_ref())?;
            Ok(session_response(&state, &outcome, Some(device)))
        }
        SignIn::SecondStep(step) => Ok(mfa_required(&step)),
    }
}

#[derive(Deserialize)]
pub(crate) struct MfaRequest {
    mfa_token: String,
    code: Option<String>,
    recovery_code: Option<String>,
}

/// Completes a login whose password was right: as `POST /v1/login` answers.
pub(crate) async fn complete(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    AppJson(body): AppJson<MfaRequest>,
) -> Result<Response, ApiError> {
    check_origin(&state, &headers)?;
    let previous = resolve(&state, &headers)
        .await
        .ok()
        .flatten()
        .map(|caller| caller.session);
    let proof = proof(body.code.as_deref(), body.recovery_code.as_deref())?;
    let presented = device_cookie::presented(&state, &headers);
    let outcome = second_step::complete(
        &state,
        &body.mfa_token,
        proof,
        &client,
        previous.as_ref(),
        SessionKind::Cookie,
        presented.as_ref(),
    )
    .await?;
    let device = device_cookie::issue(&state, outcome.user.id, presented.as_ref())?;
    Ok(session_response(&state, &outcome, Some(device)))
}
