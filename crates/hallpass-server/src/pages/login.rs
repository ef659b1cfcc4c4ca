//! `GET /login`, `POST /login`.

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, header},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Deserialize;

use crate::{
    auth,
    error::ApiError,
    http::{
        client::Client,
        cookies,
        extract::{CsrfForm, PresessionForm, resolve},
    },
    state::AppState,
};

/// The login page and its form.
pub(super) fn router() -> Router<AppState> {
    Router::new().route("/login", get(show).post(submit))
}

/// The pre-session nonce the browser holds, or a new one to set. Returns the nonce and, when
/// new, the `Set-Cookie` value.
pub(super) fn presession(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(String, Option<axum::http::HeaderValue>), ApiError> {
    match cookies::read_presession(headers, &state.config)? {
        Some(nonce) if !nonce.is_empty() => Ok((nonce, None)),
        _ => {
            let nonce = URL_SAFE_NO_PAD.encode(auth::random_bytes::<32>()?);
            let cookie = cookies::presession_cookie(&state.config, &nonce);
            Ok((nonce, Some(cookie)))
        }
    }
}

/// Renders the login form, with a pre-session token and an optional message.
fn page(
    state: &AppState,
    headers: &HeaderMap,
    status: axum::http::StatusCode,
    username: Option<&str>,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let (nonce, set_cookie) = presession(state, headers)?;
    let html = state.pages.render(
        "login.html",
        minijinja::context! {
            title => "Log in",
            csrf_token => state.keys.csrf.presession_token(&nonce),
            username,
            error,
        },
    )?;
    let mut response = (status, html).into_response();
    if let Some(cookie) = set_cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

async fn show(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if matches!(resolve(&state, &headers).await, Ok(Some(_))) {
        return Redirect::to("/account").into_response();
    }
    page(&state, &headers, axum::http::StatusCode::OK, None, None)
        .unwrap_or_else(|e| state.pages.error(&e))
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    csrf_token: String,
}

impl CsrfForm for LoginForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    form: Result<PresessionForm<LoginForm>, ApiError>,
) -> Response {
    let form = match form {
        Ok(PresessionForm(form)) => form,
        Err(error) => return state.pages.error(&error),
    };
    let previous = resolve(&state, &headers)
        .await
        .ok()
        .flatten()
        .map(|c| c.session);
    match auth::login(
        &state,
        &form.username,
        &form.password,
        &client,
        previous.as_ref(),
    )
    .await
    {
        Ok(outcome) => (
            [(
                header::SET_COOKIE,
                cookies::session_cookie(&state.config, outcome.token.expose()),
            )],
            Redirect::to("/account"),
        )
            .into_response(),
        Err(
            error @ (ApiError::InvalidCredentials
            | ApiError::RateLimited { .. }
            | ApiError::SessionLimitReached),
        ) => {
            let (status, _) = error.status_and_code();
            page(
                &state,
                &headers,
                status,
                Some(&form.username),
                Some(error.to_string()),
            )
            .unwrap_or_else(|e| state.pages.error(&e))
        }
        Err(error) => state.pages.error(&error),
    }
}
