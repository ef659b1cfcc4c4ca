//! `POST /v1/password`.

use axum::{extract::State, http::StatusCode};
use serde::Deserialize;

use super::ops;
use crate::{
    error::ApiError,
    http::extract::{AppJson, Authenticated},
    operation::Client,
    state::AppState,
};

#[derive(Deserialize)]
pub(crate) struct PasswordRequest {
    current_password: String,
    new_password: String,
}

pub(crate) async fn change(
    State(state): State<AppState>,
    client: Client,
    caller: Authenticated,
    AppJson(body): AppJson<PasswordRequest>,
) -> Result<StatusCode, ApiError> {
    ops::change_password(
        &state,
        caller.caller(),
        &body.current_password,
        &body.new_password,
        &client,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
