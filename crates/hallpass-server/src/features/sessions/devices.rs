//! `GET /v1/sessions`, `DELETE /v1/sessions/{id}`: the caller's devices.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use hallpass_core::session::SessionId;
use serde::Serialize;

use super::ops;
use crate::{
    error::ApiError,
    http::{
        extract::{Authenticated, path_id},
        json::SessionJson,
    },
    operation::Client,
    state::AppState,
};

#[derive(Serialize)]
pub(crate) struct SessionsResponse {
    sessions: Vec<SessionJson>,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Authenticated,
) -> Result<Json<SessionsResponse>, ApiError> {
    let now = state.clock.now();
    let policy = &state.config.session_policy;
    let sessions = state
        .stores
        .sessions
        .sessions_of_user(caller.user.id, now)
        .await?;
    Ok(Json(SessionsResponse {
        sessions: sessions
            .iter()
            .filter(|s| policy.is_live(s, now))
            .map(|s| SessionJson::new(s, policy, s.id == caller.session.id))
            .collect(),
    }))
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    client: Client,
    caller: Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = SessionId(path_id(&id)?);
    ops::revoke_one(&state, caller.caller(), id, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}
