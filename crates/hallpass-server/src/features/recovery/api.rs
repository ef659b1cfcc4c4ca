//! `POST /v1/password/forgot`, `POST /v1/password/reset`.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
};
use serde::Deserialize;

use super::ops;
use crate::{
    error::ApiError,
    http::extract::{AppJson, check_origin},
    operation::Client,
    state::AppState,
};

#[derive(Deserialize)]
pub(crate) struct ForgotRequest {
    /// A username or an email address.
    login: String,
}

/// 202 whether or not the account exists.
pub(crate) async fn forgot(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    AppJson(body): AppJson<ForgotRequest>,
) -> Result<StatusCode, ApiError> {
    check_origin(&state, &headers)?;
    ops::forgot(&state, &body.login, &client).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize)]
pub(crate) struct ResetRequest {
    token: String,
    new_password: String,
}

pub(crate) async fn reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    AppJson(body): AppJson<ResetRequest>,
) -> Result<StatusCode, ApiError> {
    check_origin(&state, &headers)?;
    ops::reset(&state, &body.token, &body.new_password, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}
