//! `GET /v1/me`.

use axum::{Json, extract::State};
use serde::Serialize;

use crate::{
    http::{
        extract::{Authenticated, Credential},
        json::{SessionJson, UserJson},
    },
    state::AppState,
};

#[derive(Serialize)]
pub(crate) struct MeResponse {
    user: UserJson,
    session: SessionJson,
    /// Lets a page that lost its copy (a reload) make writes again; only same-origin script can
    /// read this response. Bearer callers need none.
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf_token: Option<String>,
}

pub(crate) async fn me(State(state): State<AppState>, caller: Authenticated) -> Json<MeResponse> {
    Json(MeResponse {
        user: UserJson::from(&caller.user),
        session: SessionJson::new(&caller.session, &state.config.session_policy, true),
        csrf_token: (caller.via == Credential::Cookie)
            .then(|| state.keys.csrf.session_token(caller.session.id)),
    })
}
