//! `POST /v1/password`.

use axum::{Router, extract::State, http::StatusCode, routing::post};
use serde::Deserialize;

use crate::{
    auth,
    error::ApiError,
    http::{
        client::Client,
        extract::{AppJson, Authenticated},
    },
    state::AppState,
};

/// The password-change route.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/password", post(change))
}

#[derive(Deserialize)]
struct PasswordRequest {
    current_password: String,
    new_password: String,
}

async fn change(
    State(state): State<AppState>,
    client: Client,
    caller: Authenticated,
    AppJson(body): AppJson<PasswordRequest>,
) -> Result<StatusCode, ApiError> {
    auth::change_password(
        &state,
        &caller,
        &body.current_password,
        &body.new_password,
        &client,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
