//! `POST /v1/login/email`, `POST /v1/login/email/complete`.

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{AppendHeaders, IntoResponse, Response},
};
use hallpass_core::session::SessionKind;
use serde::{Deserialize, Serialize};

use super::ops;
use crate::{
    error::ApiError,
    http::{
        cookies,
        extract::{AppJson, check_origin, resolve},
        json::{SessionJson, UserJson},
    },
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

#[derive(Serialize)]
struct LoginResponse {
    user: UserJson,
    session: SessionJson,
    csrf_token: String,
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
    let outcome = ops::complete(
        &state,
        proof,
        &client,
        previous.as_ref(),
        SessionKind::Cookie,
    )
    .await?;
    let response = LoginResponse {
        user: UserJson::from(&outcome.user),
        session: SessionJson::new(&outcome.session, &state.config.session_policy, true),
        csrf_token: state.keys.csrf.session_token(outcome.session.id),
    };
    Ok((
        AppendHeaders([(
            header::SET_COOKIE,
            cookies::session_cookie(&state.config, outcome.token.expose()),
        )]),
        Json(response),
    )
        .into_response())
}
