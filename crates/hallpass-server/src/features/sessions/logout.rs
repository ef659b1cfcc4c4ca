//! `POST /v1/logout`.

use axum::{
    Json,
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};

use super::ops;
use crate::{
    error::ApiError,
    features::sessions::ops::LogoutScope,
    http::{
        cookies,
        extract::{Authenticated, Credential, OptionalJson},
    },
    operation::Client,
    state::AppState,
};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct LogoutRequest {
    #[serde(default)]
    scope: LogoutScope,
}

#[derive(Serialize)]
struct LogoutResponse {
    revoked_sessions: usize,
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    client: Client,
    caller: Authenticated,
    OptionalJson(body): OptionalJson<LogoutRequest>,
) -> Result<Response, ApiError> {
    let revoked = ops::logout(&state, caller.caller(), body.scope, &client).await?;
    let mut response = Json(LogoutResponse {
        revoked_sessions: revoked,
    })
    .into_response();
    match (caller.via, body.scope) {
        (_, LogoutScope::Others) => {}
        (Credential::Cookie, _) => {
            cookies::end_browser_session(response.headers_mut(), &state.config)
        }
        // A token session lives in a single-page app, perhaps on another origin of the same
        // site: forget its refresh cookie only. `Clear-Site-Data` would wipe every cookie of
        // the whole site, the app's own included, and the page session is another session.
        (Credential::Bearer, _) => {
            for cookie in cookies::clear_refresh_cookies(&state.config) {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
        }
    }
    Ok(response)
}
