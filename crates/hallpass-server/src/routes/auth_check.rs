//! `GET /v1/auth/check`: forward authentication for nginx `auth_request` and Traefik
//! `forwardAuth`. 200 with who the caller is in headers, or 401.

use axum::{
    Router,
    http::{HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};

use crate::{http::extract::Authenticated, state::AppState};

/// The forward-auth route.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/auth/check", get(check))
}

async fn check(caller: Authenticated) -> Response {
    let roles: Vec<&str> = caller.user.roles.iter().map(|r| r.as_str()).collect();
    let headers = [
        ("x-hallpass-user", caller.user.id.to_string()),
        ("x-hallpass-username", caller.user.username.clone()),
        ("x-hallpass-roles", roles.join(",")),
        ("x-hallpass-session", caller.session.id.to_string()),
    ];
    let mut response = StatusCode::OK.into_response();
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::try_from(value) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(name), value);
        }
    }
    response
}
