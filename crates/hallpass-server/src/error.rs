//! The HTTP layer's error: every failure a handler can have, mapped to status and
//! `application/problem+json` (RFC 9457) in one place.

use std::time::Duration;

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use hallpass_core::{CsrfRejection, ValidationError, token::TokenError};
use serde::Serialize;

use crate::operation::OpError;

/// Why a request failed: an operation's failure, or a rejection only HTTP has (a body that is
/// not JSON, a missing credential, a failed CSRF check, …).
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
    /// Authenticated, but the authorization rules say no (role or ownership).
    #[error("you are not allowed to do this: {0}")]
    Denied(#[from] hallpass_core::authz::Denied),
    /// Failed the cross-site request forgery check.
    #[error("cross-site request check failed: {0}")]
    Csrf(#[from] CsrfRejection),
    /// Body over 64 KiB.
    #[error("the request body is larger than 65536 bytes")]
    PayloadTooLarge,
    /// Wrong `Content-Type`.
    #[error("{0}")]
    UnsupportedMediaType(&'static str),
    /// The request took longer than `request_timeout`.
    #[error("the request took too long; try again shortly")]
    Timeout,
    /// What an operation (or the store, the hasher, a limit below it) said. A 5xx among these
    /// is logged with its cause and answered generically; `StoreUnavailable` is answered 503
    /// `store_unavailable` with `Retry-After` (a write may or may not have landed).
    #[error(transparent)]
    Op(OpError),
}

/// Every operation's error, and everything that converts into one (the store's, the hasher's,
/// the limits', a validation), becomes an [`ApiError`] here.
impl<E: Into<OpError>> From<E> for ApiError {
    fn from(error: E) -> Self {
        Self::Op(error.into())
    }
}

impl ApiError {
    /// The input problems, if this is a validation failure.
    pub(crate) fn invalid_fields(&self) -> Option<&[ValidationError]> {
        match self {
            Self::Op(OpError::Invalid(errors)) => Some(errors),
            _ => None,
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
            Self::Denied(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::Csrf(_) => (StatusCode::FORBIDDEN, "csrf_failed"),
            Self::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::Timeout => (StatusCode::SERVICE_UNAVAILABLE, "timeout"),
            Self::Op(error) => op_status_and_code(error),
        }
    }

    /// Whether the client should be told when to come back.
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Op(
                OpError::RateLimited { retry_after } | OpError::Overloaded { retry_after },
            ) => Some(*retry_after),
            Self::Op(OpError::StoreUnavailable(_)) | Self::Timeout => Some(STORE_RETRY_AFTER),
            _ => None,
        }
    }
}

/// The one place an operation's failure gets its status and code.
fn op_status_and_code(error: &OpError) -> (StatusCode, &'static str) {
    use crate::infra::social::SocialError;
    match error {
        OpError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        OpError::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
        OpError::WrongCurrentPassword => (StatusCode::FORBIDDEN, "invalid_credentials"),
        OpError::ReauthRequired => (StatusCode::UNAUTHORIZED, "insufficient_user_authentication"),
        OpError::FactorRequired => (StatusCode::FORBIDDEN, "mfa_enrollment_required"),
        OpError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
        OpError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
        OpError::UsernameTaken => (StatusCode::CONFLICT, "username_taken"),
        OpError::EmailTaken => (StatusCode::CONFLICT, "email_taken"),
        OpError::EmailUnverified => (StatusCode::FORBIDDEN, "email_unverified"),
        OpError::InvalidEmailToken | OpError::InvalidChallenge => {
            (StatusCode::BAD_REQUEST, "invalid_token")
        }
        OpError::SessionLimitReached => (StatusCode::CONFLICT, "session_limit_reached"),
        OpError::LastAdmin => (StatusCode::CONFLICT, "last_admin"),
        OpError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        OpError::Overloaded { .. } => (StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
        OpError::StoreUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable"),
        OpError::Social(SocialError::Config(_)) | OpError::Internal(_) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "internal_error")
        }
        OpError::Social(
            SocialError::AlreadyLinked
            | SocialError::AlreadyLinkedHere
            | SocialError::LastWayToLogIn,
        ) => (StatusCode::CONFLICT, "social_login_failed"),
        OpError::Social(SocialError::Provider(_)) => {
            (StatusCode::BAD_GATEWAY, "social_login_failed")
        }
        OpError::Social(_) => (StatusCode::BAD_REQUEST, "social_login_failed"),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        match &self {
            Self::Op(OpError::Internal(cause)) => tracing::error!(error = ?cause, "request failed"),
            Self::Op(OpError::StoreUnavailable(cause)) => {
                tracing::warn!(error = ?cause, "database unavailable");
            }
            _ => {}
        }
        let failed_store = matches!(self, Self::Op(OpError::StoreUnavailable(_)));
        let problem = Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            code,
            detail: self.to_string(),
            errors: self.invalid_fields().map(|errors| {
                errors
                    .iter()
                    .map(|e| FieldProblem {
                        field: e.field,
                        message: &e.message,
                    })
                    .collect()
            }),
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
        let challenge = match &self {
            Self::InvalidToken(reason) => Some(format!(
                "Bearer error=\"invalid_token\", error_description=\"{reason}\""
            )),
            // RFC 9470: the authentication must be at most this old.
            Self::Op(OpError::ReauthRequired) => Some(format!(
                "Bearer error=\"insufficient_user_authentication\", error_description=\"a more recent authentication is required\", max_age=\"{}\"",
                crate::reauth::REAUTH_WINDOW.whole_seconds()
            )),
            _ if status == StatusCode::UNAUTHORIZED => Some("Bearer realm=\"hallpass\"".to_owned()),
            _ => None,
        };
        if let Some(value) = challenge.and_then(|c| HeaderValue::try_from(c).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, value);
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
