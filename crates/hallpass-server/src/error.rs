//! The HTTP layer's error: every failure a handler can have, mapped to status and
//! `application/problem+json` (RFC 9457) in one place.

use std::time::Duration;

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use hallpass_core::{CsrfRejection, ValidationError, token::TokenError};
use hallpass_store::StoreError;
use serde::Serialize;

use crate::operation::OpError;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// The body is not JSON, or not the JSON expected.
    #[error("the request body is not valid JSON: {0}")]
    MalformedJson(String),
    /// The request is malformed in some other way.
    #[error("{0}")]
    InvalidRequest(String),
    /// No credential, or one that is not (or no longer) valid.
    #[error("authentication is required")]
    Unauthenticated,
    /// A Bearer token that does not verify, has expired or was revoked (RFC 6750 `invalid_token`).
    #[error("{0}")]
    InvalidToken(TokenError),
    /// Wrong username or password (never saying which).
    #[error("the username or password is wrong")]
    InvalidCredentials,
    /// The current password given to change it is wrong.
    #[error("the current password is wrong")]
    WrongCurrentPassword,
    /// Authenticated, but the authorization rules say no (role or ownership).
    #[error("you are not allowed to do this: {0}")]
    Denied(#[from] hallpass_core::authz::Denied),
    /// Failed the cross-site request forgery check.
    #[error("cross-site request check failed: {0}")]
    Csrf(#[from] CsrfRejection),
    /// No such resource (or not the caller's).
    #[error("not found")]
    NotFound,
    /// The username is in use.
    #[error("the username is taken")]
    UsernameTaken,
    /// `max_sessions_per_user` reached under `reject_new`.
    #[error("you are logged in on as many devices as allowed; log out on one first")]
    SessionLimitReached,
    /// The change would leave no enabled administrator; nothing changed.
    #[error(
        "this would leave no enabled administrator; make another account an administrator first"
    )]
    LastAdmin,
    /// Body over 64 KiB.
    #[error("the request body is larger than 65536 bytes")]
    PayloadTooLarge,
    /// Wrong `Content-Type`.
    #[error("{0}")]
    UnsupportedMediaType(&'static str),
    /// Input breaks domain rules.
    #[error("the request has invalid fields")]
    Validation(Vec<ValidationError>),
    /// Too many attempts.
    #[error("too many attempts; try again later")]
    RateLimited {
        /// When to try again.
        retry_after: Duration,
    },
    /// The password hashing queue is full.
    #[error("the server is busy; try again shortly")]
    Overloaded {
        /// When to try again.
        retry_after: Duration,
    },
    /// A social login or link failed; the message says why (never a secret).
    #[error("{0}")]
    Social(crate::infra::social::SocialError),
    /// The database is unreachable or cannot take writes right now. Logged with its cause,
    /// answered 503 `store_unavailable` with `Retry-After`; a write may or may not have landed.
    #[error("the server cannot reach its database right now; try again shortly")]
    StoreUnavailable(#[source] StoreError),
    /// The request took longer than `request_timeout`.
    #[error("the request took too long; try again shortly")]
    Timeout,
    /// The server's fault. Logged with its cause, answered generically.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// Every operation's error, and everything that converts into one (the store's, the hasher's,
/// the limits', a validation), reaches HTTP through this one mapping.
impl<E: Into<OpError>> From<E> for ApiError {
    fn from(error: E) -> Self {
        match error.into() {
            OpError::Invalid(errors) => Self::Validation(errors),
            OpError::InvalidCredentials => Self::InvalidCredentials,
            OpError::WrongCurrentPassword => Self::WrongCurrentPassword,
            OpError::Unauthenticated => Self::Unauthenticated,
            OpError::NotFound => Self::NotFound,
            OpError::UsernameTaken => Self::UsernameTaken,
            OpError::SessionLimitReached => Self::SessionLimitReached,
            OpError::LastAdmin => Self::LastAdmin,
            OpError::RateLimited { retry_after } => Self::RateLimited { retry_after },
            OpError::Overloaded { retry_after } => Self::Overloaded { retry_after },
            OpError::Social(error) => Self::Social(error),
            OpError::StoreUnavailable(error) => Self::StoreUnavailable(error),
            OpError::Internal(error) => Self::Internal(error),
        }
    }
}

#[derive(Serialize)]
struct FieldProblem<'a> {
    field: &'a str,
    message: &'a str,
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    status: u16,
    code: &'static str,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<Vec<FieldProblem<'a>>>,
}

impl ApiError {
    /// HTTP status and stable machine-readable code.
    pub(crate) fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::MalformedJson(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
            Self::InvalidRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            Self::Unauthenticated | Self::InvalidToken(_) => {
                (StatusCode::UNAUTHORIZED, "unauthenticated")
            }
            Self::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            Self::WrongCurrentPassword => (StatusCode::FORBIDDEN, "invalid_credentials"),
            Self::Denied(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::Csrf(_) => (StatusCode::FORBIDDEN, "csrf_failed"),
            Self::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            Self::UsernameTaken => (StatusCode::CONFLICT, "username_taken"),
            Self::SessionLimitReached => (StatusCode::CONFLICT, "session_limit_reached"),
            Self::LastAdmin => (StatusCode::CONFLICT, "last_admin"),
            Self::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            Self::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            Self::Overloaded { .. } => (StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
            Self::StoreUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable"),
            Self::Timeout => (StatusCode::SERVICE_UNAVAILABLE, "timeout"),
            Self::Social(crate::infra::social::SocialError::Config(_)) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal_error")
            }
            Self::Social(
                crate::infra::social::SocialError::AlreadyLinked
                | crate::infra::social::SocialError::AlreadyLinkedHere
                | crate::infra::social::SocialError::LastWayToLogIn,
            ) => (StatusCode::CONFLICT, "social_login_failed"),
            Self::Social(crate::infra::social::SocialError::Provider(_)) => {
                (StatusCode::BAD_GATEWAY, "social_login_failed")
            }
            Self::Social(_) => (StatusCode::BAD_REQUEST, "social_login_failed"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        }
    }

    /// Whether the client should be told when to come back.
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } | Self::Overloaded { retry_after } => {
                Some(*retry_after)
            }
            Self::StoreUnavailable(_) | Self::Timeout => Some(STORE_RETRY_AFTER),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        match &self {
            Self::Internal(cause) => tracing::error!(error = ?cause, "request failed"),
            Self::StoreUnavailable(cause) => {
                tracing::warn!(error = ?cause, "database unavailable");
            }
            _ => {}
        }
        let failed_store = matches!(self, Self::StoreUnavailable(_));
        let problem = Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            code,
            detail: self.to_string(),
            errors: match &self {
                Self::Validation(errors) => Some(
                    errors
                        .iter()
                        .map(|e| FieldProblem {
                            field: e.field,
                            message: &e.message,
                        })
                        .collect(),
                ),
                _ => None,
            },
        };
        let mut response = (status, Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(after) = self.retry_after() {
            headers.insert(
                header::RETRY_AFTER,
                HeaderValue::from(after.as_secs().max(1)),
            );
        }
        if let Self::InvalidToken(reason) = &self {
            let challenge =
                format!("Bearer error=\"invalid_token\", error_description=\"{reason}\"");
            if let Ok(value) = HeaderValue::try_from(challenge) {
                headers.insert(header::WWW_AUTHENTICATE, value);
            }
        } else if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"hallpass\""),
            );
        }
        if failed_store {
            // Seen by readiness (features/probes/health.rs): recent store failures make the node unready.
            response.extensions_mut().insert(StoreFailed);
        }
        response
    }
}

/// How long a client should wait after the database failed or a request timed out.
const STORE_RETRY_AFTER: Duration = Duration::from_secs(2);

/// Marks a response answered 503 because the store failed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StoreFailed;
