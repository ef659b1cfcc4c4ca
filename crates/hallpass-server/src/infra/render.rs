//! The page templates, embedded at build time and parsed once at start-up.

use std::sync::Arc;

use axum::response::Html;
use minijinja::Environment;
use serde::Serialize;

const TEMPLATES: [(&str, &str); 22] = [
    (
        "base.html",
        include_str!("../../../../web/templates/base.html"),
    ),
    (
        "_banners.html",
        include_str!("../../../../web/templates/_banners.html"),
    ),
    (
        "forgot.html",
        include_str!("../../../../web/templates/forgot.html"),
    ),
    (
        "reset.html",
        include_str!("../../../../web/templates/reset.html"),
    ),
    (
        "verify.html",
        include_str!("../../../../web/templates/verify.html"),
    ),
    (
        "login_email.html",
        include_str!("../../../../web/templates/login_email.html"),
    ),
    (
        "factors.html",
        include_str!("../../../../web/templates/factors.html"),
    ),
    (
        "factor_totp.html",
        include_str!("../../../../web/templates/factor_totp.html"),
    ),
    (
        "recovery_codes.html",
        include_str!("../../../../web/templates/recovery_codes.html"),
    ),
    (
        "reauth.html",
        include_str!("../../../../web/templates/reauth.html"),
    ),
    (
        "login_mfa.html",
        include_str!("../../../../web/templates/login_mfa.html"),
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
    pub fn render(&self, name: &str, context: impl Serialize) -> Result<Html<String>, RenderError> {
        self.env
            .get_template(name)
            .and_then(|template| template.render(minijinja::value::Serde(&context)))
            .map(Html)
            .map_err(|source| RenderError {
                template: name.to_owned(),
                source,
            })
    }
}

/// A template failed to render: a bug of ours, never the visitor's input.
#[derive(Debug, thiserror::Error)]
#[error("rendering {template}")]
pub struct RenderError {
    template: String,
    #[source]
    source: minijinja::Error,
}

impl RenderError {
    /// `template` failed with `source`.
    pub fn new(template: impl Into<String>, source: minijinja::Error) -> Self {
        Self {
            template: template.into(),
            source,
        }
    }
}
