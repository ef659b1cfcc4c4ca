//! `POST /v1/signup`.

use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};

use super::ops;
use crate::{
    error::ApiError,
    features::signup::ops::SignupInput,
    http::{extract::AppJson, json::UserJson},
    operation::Client,
    state::AppState,
};

#[derive(Deserialize)]
pub(crate) struct SignupRequest {
    username: String,
    password: String,
    email: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct SignupResponse {
    user: UserJson,
}

pub(crate) async fn signup(
    State(state): State<AppState>,
    client: Client,
    AppJson(body): AppJson<SignupRequest>,
) -> Result<(StatusCode, Json<SignupResponse>), ApiError> {
    let input = SignupInput {
        username: &body.username,
        password: &body.password,
        email: body.email.as_deref(),
    };
    let user = ops::signup(&state, input, &client).await?;
    Ok((
        StatusCode::CREATED,
        Json(SignupResponse {
            user: UserJson::from(&user),
        }),
    ))
}
