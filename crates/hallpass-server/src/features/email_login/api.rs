//! `POST /v1/login/email`, `POST /v1/login/email/complete`.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Response,
};
use hallpass_core::session::SessionKind;
use serde::Deserialize;

use super::ops;
use crate::{
    error::ApiError,
    features::login::{
        respond::{mfa_required, session_response},
        second_step::SignIn,
    },
    http::extract::{AppJson, check_origin, resolve},
    operation::Client,
    state::AppState,
};

#[derive(Deserialize)]
pub(crate) struct CodeRequest {
    email: String,
}

/// 202 whether or not the address names an account.
pub(crate) async fn request(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    AppJson(body): AppJson<CodeRequest>,
) -> Result<StatusCode, ApiError> {
    check_origin(&state, &headers)?;
    ops::request(&state, &body.email, &client).await?;
    Ok(StatusCode::ACCEPTED)
}

/// The link's `token`, or the `email` and its `code`.
#[derive(Deserialize)]
pub(crate) struct CompleteRequest {
    token: Option<String>,
    email: Option<String>,
    code: Option<String>,
}

/// Answers as `POST /v1/login` does: the user, the session, its CSRF token and cookie.
pub(crate) async fn complete(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    AppJson(body): AppJson<CompleteRequest>,
) -> Result<Response, ApiError> {
    check_origin(&state, &headers)?;
    let previous = resolve(&state, &headers)
        .await
        .ok()
        .flatten()
        .map(|caller| caller.session);
    let proof = ops::Proof::from_parts(
        body.token.as_deref(),
        body.email.as_deref(),
        body.code.as_deref(),
    )
    .ok_or_else(|| ApiError::InvalidRequest("send either token, or email and code".to_owned()))?;
    let signed_in = ops::complete(
        &state,
        proof,
        &client,
        previous.as_ref(),
        SessionKind::Cookie,
    )
    .await?;
    Ok(match signed_in {
        SignIn::Done(outcome) => session_response(&state, &outcome, None),
        SignIn::SecondStep(step) => mfa_required(&step),
    })
}
