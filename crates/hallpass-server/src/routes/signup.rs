//! `POST /v1/signup`.

use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
use serde::{Deserialize, Serialize};

use crate::{
    auth::{self, SignupInput},
    error::ApiError,
    http::{client::Client, extract::AppJson},
    routes::json::UserJson,
    state::AppState,
};

/// The signup route.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/signup", post(signup))
}

#[derive(Deserialize)]
struct SignupRequest {
    username: String,
    password: String,
    email: Option<String>,
}

#[derive(Serialize)]
struct SignupResponse {
    user: UserJson,
}

async fn signup(
    State(state): State<AppState>,
    client: Client,
    AppJson(body): AppJson<SignupRequest>,
) -> Result<(StatusCode, Json<SignupResponse>), ApiError> {
    let input = SignupInput {
        username: &body.username,
        password: &body.password,
        email: body.email.as_deref(),
    };
    let user = auth::signup(&state, input, &client).await?;
    Ok((
        StatusCode::CREATED,
        Json(SignupResponse {
            user: UserJson::from(&user),
        }),
    ))
}
