//! What the pages share: the pre-session form, the signed-in viewer, times for people, form
//! errors, and the redirect after logging in.

use axum::{
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hallpass_core::session::SessionToken;
use serde::Serialize;

use crate::operation::OpError;
use crate::{error::ApiError, http::cookies, infra::random::random_bytes, state::AppState};

/// Renders a login or signup form: `context` gets the pre-session CSRF token bound to the
/// browser's nonce cookie, which is set here when the browser has none yet.
pub(crate) fn presession_page(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    status: StatusCode,
    template: &str,
    context: impl FnOnce(String) -> minijinja::Value,
) -> Result<Response, ApiError> {
    let existing = cookies::read_presession(headers, &state.config)?.filter(|n| !n.is_empty());
    let (nonce, set_cookie) = match existing {
        Some(nonce) => (nonce, None),
        None => {
            let nonce = URL_SAFE_NO_PAD.encode(random_bytes::<32>()?);
            let cookie = cookies::presession_cookie(&state.config, &nonce);
            (nonce, Some(cookie))
        }
    };
    let html = state
        .pages
        .render(template, context(state.keys.csrf.presession_token(&nonce)))?;
    let mut response = (status, html).into_response();
    if let Some(cookie) = set_cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// After a successful login or signup: the session cookie, and on to the account page.
pub(crate) fn logged_in(state: &AppState, token: &SessionToken) -> Response {
    (
        [(
            header::SET_COOKIE,
            cookies::session_cookie(&state.config, token.expose()),
        )],
        Redirect::to("/account"),
    )
        .into_response()
}

/// What every page shows of the signed-in viewer (the header's name, links and logout form).
pub(crate) fn viewer(
    state: &AppState,
    caller: Option<&crate::http::extract::Authenticated>,
) -> minijinja::Value {
    let Some(caller) = caller else {
        return minijinja::context! {};
    };
    minijinja::context! {
        current_user => minijinja::context! {
            username => &caller.user.username,
            is_admin => caller.user.is_admin(),
        },
        csrf_token => state.keys.csrf.session_token(caller.session.id),
        session_id => caller.session.id.0.to_string(),
    }
}

/// Formats a time for people: `2026-11-22 07:13 UTC`.
pub(crate) fn human_time(t: time::OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    t.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

/// A validation error as the templates show it.
#[derive(Serialize)]
pub(crate) struct FieldError {
    field: &'static str,
    message: String,
}

impl FieldError {
    /// A problem with `field`.
    pub(crate) fn new(field: &'static str, message: &str) -> Self {
        Self {
            field,
            message: message.to_owned(),
        }
    }
}

pub(crate) fn field_errors(error: &ApiError) -> Vec<FieldError> {
    match error {
        ApiError::Op(OpError::Invalid(errors)) => errors
            .iter()
            .map(|e| FieldError {
                field: e.field,
                message: e.message.clone(),
            })
            .collect(),
        ApiError::Op(OpError::UsernameTaken) => vec![FieldError {
            field: "username",
            message: "is already taken".to_owned(),
        }],
        ApiError::Op(OpError::EmailTaken) => vec![FieldError {
            field: "email",
            message: "is used by another account".to_owned(),
        }],
        ApiError::Op(OpError::WrongCurrentPassword) => vec![FieldError {
            field: "current_password",
            message: "is not your current password".to_owned(),
        }],
        other => vec![FieldError {
            field: "form",
            message: other.to_string(),
        }],
    }
}
