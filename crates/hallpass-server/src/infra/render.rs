//! The page templates, embedded at build time and parsed once at start-up, and the error card.

use std::sync::Arc;

use axum::{
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
};
use minijinja::Environment;
use serde::Serialize;

use crate::error::ApiError;

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
