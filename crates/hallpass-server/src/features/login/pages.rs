//! `GET /login`, `POST /login`.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use hallpass_core::session::SessionKind;
use serde::Deserialize;

use super::{
    ops,
    respond::{self, Onward},
    second_step::SignIn,
};
use crate::{
    error::ApiError,
    http::{
        device_cookie,
        extract::{AppQuery, CsrfForm, PresessionForm, resolve},
        page_error::PageError,
        view::{logged_in, presession_page},
    },
    operation::{Client, OpError},
    state::AppState,
};

/// Renders the login form, with a pre-session token and an optional message.
fn page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    username: Option<&str>,
    error: Option<String>,
    notice: Option<&str>,
) -> Result<Response, ApiError> {
    let providers: Vec<minijinja::Value> = state
        .social
        .providers
        .all()
        .map(|p| minijinja::context! { name => &p.name, display_name => &p.display_name })
        .collect();
    presession_page(state, headers, status, "login.html", |csrf_token| {
        minijinja::context! {
            title => "Log in", csrf_token, username, error, notice, providers,
            passwordless => state.mail.settings.passwordless_login,
        }
    })
}

#[derive(Deserialize)]
pub(crate) struct LoginQuery {
    notice: Option<String>,
}

pub(crate) async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    AppQuery(query): AppQuery<LoginQuery>,
) -> Result<Response, PageError> {
    if matches!(resolve(&state, &headers).await, Ok(Some(_))) {
        return Ok(Redirect::to("/account").into_response());
    }
    // Only known notices, never text from the URL.
    let notice = match query.notice.as_deref() {
        Some("password_reset") => {
            Some("Your password was changed and every device signed out. Log in with the new one.")
        }
        Some("mfa_expired") => Some(
            "That sign-in attempt expired or had too many wrong codes. Log in again to get a new one.",
        ),
        _ => None,
    };
    Ok(page(&state, &headers, StatusCode::OK, None, None, notice)?)
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
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

pub(crate) async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    form: Result<PresessionForm<LoginForm>, ApiError>,
) -> Result<Response, PageError> {
    let PresessionForm(form) = form?;
    let previous = resolve(&state, &headers)
        .await
        .ok()
        .flatten()
        .map(|c| c.session);
    let device = device_cookie::presented(&state, &headers);
    let result = ops::login(
        &state,
        &form.username,
        &form.password,
        &client,
        previous.as_ref(),
        SessionKind::Cookie,
        device.as_ref(),
    )
    .await;
    match result.map_err(ApiError::from) {
        Ok(SignIn::Done(outcome)) => {
            let device = device_cookie::issue(&state, outcome.user.id, device.as_ref())?;
            let mut response = logged_in(&state, &outcome.token);
            response.headers_mut().append(header::SET_COOKIE, device);
            Ok(response)
        }
        Ok(SignIn::SecondStep(step)) => Ok(respond::second_step_page(
            &state,
            &headers,
            &step,
            &Onward::default(),
        )?),
        // The form again, saying why, with the name that was typed.
        Err(
            error @ ApiError::Op(
                OpError::InvalidCredentials
                | OpError::RateLimited { .. }
                | OpError::SessionLimitReached
                | OpError::EmailUnverified,
            ),
        ) => {
            let (status, _) = error.status_and_code();
            let message = Some(error.to_string());
            Ok(page(
                &state,
                &headers,
                status,
                Some(&form.username),
                message,
                None,
            )?)
        }
        Err(error) => Err(error.into()),
    }
}
