//! `POST /v1/email/verify`, `POST /v1/email/verify/resend`, `POST /v1/email`.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
};
use serde::Deserialize;

use super::ops;
use crate::{
    error::ApiError,
    http::extract::{AppJson, Authenticated, check_origin},
    operation::Client,
    state::AppState,
};

/// Either the link's `token`, or the `login` (username or email) and the mailed `code`.
#[derive(Deserialize)]
pub(crate) struct VerifyRequest {
    token: Option<String>,
    login: Option<String>,
    code: Option<String>,
}

pub(crate) async fn verify(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    AppJson(body): AppJson<VerifyRequest>,
) -> Result<StatusCode, ApiError> {
    check_origin(&state, &headers)?;
    match (body.token, body.login, body.code) {
        (Some(token), None, None) => ops::confirm_token(&state, &token, &client).await?,
        (None, Some(login), Some(code)) => {
            ops::confirm_code(&state, &login, &code, &client).await?
        }
        _ => {
            return Err(ApiError::InvalidRequest(
                "send either token, or login and code".to_owned(),
            ));
        }
    };
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub(crate) struct ResendRequest {
    /// A username or an email address.
    login: String,
}

/// 202 whether or not the account exists or needs it.
pub(crate) async fn resend(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    AppJson(body): AppJson<ResendRequest>,
) -> Result<StatusCode, ApiError> {
    check_origin(&state, &headers)?;
    ops::resend(&state, &body.login, &client).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize)]
pub(crate) struct ChangeRequest {
    email: String,
    #[serde(default)]
    current_password: String,
}

/// 202: the change waits for the link or code mailed to the new address.
pub(crate) async fn change(
    State(state): State<AppState>,
    client: Client,
    caller: Authenticated,
    AppJson(body): AppJson<ChangeRequest>,
) -> Result<StatusCode, ApiError> {
    ops::request_change(
        &state,
        caller.caller(),
        &body.email,
        &body.current_password,
        &client,
    )
    .await?;
    Ok(StatusCode::ACCEPTED)
}
