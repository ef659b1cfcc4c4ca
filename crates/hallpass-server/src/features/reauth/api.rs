//! `POST /v1/reauth`.

use axum::{extract::State, http::StatusCode};
use serde::Deserialize;

use crate::{
    error::ApiError,
    http::extract::{AppJson, Authenticated},
    reauth,
    state::AppState,
};

/// The account's `password`, or a `code` from its authenticator app.
#[derive(Deserialize)]
pub(crate) struct ReauthRequest {
    password: Option<String>,
    code: Option<String>,
}

/// 204: the session counts as just authenticated (`auth_time` is now); tokens issued from now
/// on say so, so a token client refreshes after this.
pub(crate) async fn reauth(
    State(state): State<AppState>,
    caller: Authenticated,
    AppJson(body): AppJson<ReauthRequest>,
) -> Result<StatusCode, ApiError> {
    reauth::reauthenticate(
        &state,
        caller.caller(),
        body.password.as_deref(),
        body.code.as_deref(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
