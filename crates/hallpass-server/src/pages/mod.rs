//! Server-rendered pages: `/login`, `/signup`, `/account`. Plain HTML forms that work without
//! JavaScript; no inline script anywhere, so the CSP can forbid it outright.

mod account;
mod admin;
mod assets;
mod board;
mod device;
mod login;
mod signup;

use std::sync::Arc;

use axum::{
    Router,
    http::{HeaderName, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
};
use minijinja::Environment;
use serde::Serialize;
use tower_http::set_header::SetResponseHeaderLayer;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::{auth, error::ApiError, http::cookies, state::AppState};

const TEMPLATES: [(&str, &str); 12] = [
    (
        "base.html",
        include_str!("../../../../web/templates/base.html"),
    ),
    (
        "login.html",
        include_str!("../../../../web/templates/login.html"),
    ),
    (
        "signup.html",
        include_str!("../../../../web/templates/signup.html"),
    ),
    (
        "account.html",
        include_str!("../../../../web/templates/account.html"),
    ),
    (
        "error.html",
        include_str!("../../../../web/templates/error.html"),
    ),
    (
        "board.html",
        include_str!("../../../../web/templates/board.html"),
    ),
    (
        "board_post.html",
        include_str!("../../../../web/templates/board_post.html"),
    ),
    (
        "board_form.html",
        include_str!("../../../../web/templates/board_form.html"),
    ),
    (
        "admin_users.html",
        include_str!("../../../../web/templates/admin_users.html"),
    ),
    (
        "admin_user.html",
        include_str!("../../../../web/templates/admin_user.html"),
    ),
    (
        "admin_audit.html",
        include_str!("../../../../web/templates/admin_audit.html"),
    ),
    (
        "admin_audit_rows.html",
        include_str!("../../../../web/templates/admin_audit_rows.html"),
    ),
];

/// Script and styles only from our own files (never inline, so injected markup cannot run),
/// connections only to ourselves (the session event stream), forms only to ourselves, no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// The page templates, parsed once at start-up.
#[derive(Clone)]
pub struct Pages {
    env: Arc<Environment<'static>>,
}

impl Pages {
    /// Loads the embedded templates; a broken template fails start-up, not a request.
    pub fn load() -> Result<Self, minijinja::Error> {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source)?;
        }
        Ok(Self { env: Arc::new(env) })
    }

    /// Renders `name` with `context`.
    pub fn render(&self, name: &str, context: impl Serialize) -> Result<Html<String>, ApiError> {
        self.env
            .get_template(name)
            .and_then(|template| template.render(minijinja::value::Serde(&context)))
            .map(Html)
            .map_err(|e| {
                ApiError::Internal(anyhow::Error::new(e).context(format!("rendering {name}")))
            })
    }

    /// An error as a page: an expired session goes back to the login form, anything else
    /// gets the error card with the status the API would have answered.
    pub fn error(&self, error: &ApiError) -> Response {
        let (status, _) = error.status_and_code();
        if status == StatusCode::UNAUTHORIZED {
            return Redirect::to("/login").into_response();
        }
        let message = match error {
            ApiError::Internal(cause) => {
                tracing::error!(error = ?cause, "page failed");
                "Something went wrong on our side. Please try again.".to_owned()
            }
            ApiError::Csrf(_) => {
                "This form was sent from another site or has expired. Go back, reload the page and try again.".to_owned()
            }
            other => other.to_string(),
        };
        let context = minijinja::context! {
            title => status.canonical_reason().unwrap_or("Error"),
            status => status.as_u16(),
            message,
        };
        match self.render("error.html", context) {
            Ok(html) => (status, html).into_response(),
            Err(_) => (status, message_only(status)).into_response(),
        }
    }
}

fn message_only(status: StatusCode) -> String {
    status.canonical_reason().unwrap_or("Error").to_owned()
}

/// Every page route, with the page security headers.
pub fn router() -> Router<AppState> {
    let pages = Router::new()
        .route("/", get(|| async { Redirect::to("/account") }))
        .merge(login::router())
        .merge(signup::router())
        .merge(account::router())
        .merge(board::router())
        .merge(admin::router())
        // The social login routes answer pages too (their errors, their redirects).
        .merge(crate::routes::social::router());
    with_page_headers(pages).merge(assets::router())
}

/// The headers every page carries: the strict CSP, no referrer, no framing, its own window.
fn with_page_headers(pages: Router<AppState>) -> Router<AppState> {
    pages
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
}

/// Renders a login or signup form: `context` gets the pre-session CSRF token bound to the
/// browser's nonce cookie, which is set here when the browser has none yet.
fn presession_page(
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
            let nonce = URL_SAFE_NO_PAD.encode(auth::random_bytes::<32>()?);
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
fn logged_in(state: &AppState, outcome: &auth::LoginOutcome) -> Response {
    (
        [(
            header::SET_COOKIE,
            cookies::session_cookie(&state.config, outcome.token.expose()),
        )],
        Redirect::to("/account"),
    )
        .into_response()
}

/// What every page shows of the signed-in viewer (the header's name, links and logout form).
fn viewer(
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
fn human_time(t: time::OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    t.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

/// A validation error as the templates show it.
#[derive(Serialize)]
struct FieldError {
    field: &'static str,
    message: String,
}

fn field_errors(error: &ApiError) -> Vec<FieldError> {
    match error {
        ApiError::Validation(errors) => errors
            .iter()
            .map(|e| FieldError {
                field: e.field,
                message: e.message.clone(),
            })
            .collect(),
        ApiError::UsernameTaken => vec![FieldError {
            field: "username",
            message: "is already taken".to_owned(),
        }],
        ApiError::WrongCurrentPassword => vec![FieldError {
            field: "current_password",
            message: "is not your current password".to_owned(),
        }],
        other => vec![FieldError {
            field: "form",
            message: other.to_string(),
        }],
    }
}
