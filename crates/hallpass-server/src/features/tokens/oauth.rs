//! RFC 6749 §5.2 error bodies for the OAuth-shaped endpoints, and their body extractor.

use std::time::Duration;

use axum::{
    Json,
    extract::{FromRequest, Request},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Serialize, de::DeserializeOwned};

use crate::{
    error::ApiError,
    features::login::second_step::SecondStep,
    http::extract::{AppForm, AppJson},
    operation::OpError,
};

/// An OAuth error: `{"error": …, "error_description": …}`.
#[derive(Debug)]
pub(crate) struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    retry_after: Option<Duration>,
    /// Answered 503 because the store failed (readiness counts it).
    store_failed: bool,
    /// For `mfa_required`: the challenge's token and the methods that complete it.
    mfa: Option<(String, Vec<&'static str>)>,
}

impl OAuthError {
    /// 400 `invalid_request`.
    pub(crate) fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    /// 400 `invalid_grant`.
    pub(crate) fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }

    /// 400 `unsupported_grant_type`.
    pub(crate) fn unsupported_grant_type(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            description,
        )
    }

    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
            retry_after: None,
            store_failed: false,
            mfa: None,
        }
    }

    /// 401 `mfa_required` (as Auth0 and others answer it): the password was right and the
    /// account has a second factor; the `mfa` grant completes it with `mfa_token`.
    pub(crate) fn mfa_required(step: &SecondStep) -> Self {
        Self {
            mfa: Some((step.token.expose().to_owned(), step.methods.clone())),
            ..Self::new(
                StatusCode::UNAUTHORIZED,
                "mfa_required",
                "a second factor is required: send the mfa grant with mfa_token and a code",
            )
        }
    }
}

/// An operation's failure, in the OAuth shape of the HTTP answer it would get.
impl From<OpError> for OAuthError {
    fn from(error: OpError) -> Self {
        ApiError::from(error).into()
    }
}

impl From<ApiError> for OAuthError {
    fn from(error: ApiError) -> Self {
        let description = error.to_string();
        match error {
            ApiError::Op(
                OpError::InvalidCredentials
                | OpError::SessionLimitReached
                | OpError::EmailUnverified
                | OpError::InvalidEmailToken
                | OpError::InvalidChallenge,
            ) => Self::invalid_grant(description),
            ApiError::Op(OpError::RateLimited { retry_after }) => Self {
                retry_after: Some(retry_after),
                ..Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", description)
            },
            ApiError::Op(OpError::Overloaded { retry_after }) => Self {
                retry_after: Some(retry_after),
                ..Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    description,
                )
            },
            ApiError::Op(OpError::StoreUnavailable(_)) | ApiError::Timeout => {
                let retry_after = error.retry_after();
                if let ApiError::Op(OpError::StoreUnavailable(cause)) = &error {
                    tracing::warn!(error = ?cause, "token endpoint: database unavailable");
                }
                Self {
                    retry_after,
                    store_failed: matches!(error, ApiError::Op(OpError::StoreUnavailable(_))),
                    ..Self::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "temporarily_unavailable",
                        description,
                    )
                }
            }
            ApiError::PayloadTooLarge => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                description,
            ),
            ApiError::Op(OpError::Internal(cause)) => {
                tracing::error!(error = ?cause, "token endpoint failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "internal error",
                )
            }
            _ => Self::invalid_request(description),
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'static str,
    error_description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    mfa_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    methods: Option<&'a [&'static str]>,
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(Body {
                error: self.error,
                error_description: &self.description,
                mfa_token: self.mfa.as_ref().map(|(token, _)| token.as_str()),
                methods: self.mfa.as_ref().map(|(_, methods)| methods.as_slice()),
            }),
        )
            .into_response();
        if self.store_failed {
            response.extensions_mut().insert(crate::error::StoreFailed);
        }
        let headers = response.headers_mut();
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if let Some(after) = self.retry_after {
            headers.insert(
                header::RETRY_AFTER,
                HeaderValue::from(after.as_secs().max(1)),
            );
        }
        response
    }
}

/// Which encoding a request body came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// `application/json`.
    Json,
    /// `application/x-www-form-urlencoded` (RFC 6749's own).
    Form,
}

/// A body in JSON or form encoding, as RFC 6749 and 7009 clients send either.
#[derive(Debug)]
pub(crate) struct OAuthBody<T> {
    /// The parsed body.
    pub value: T,
    /// How it was encoded.
    pub encoding: Encoding,
}

impl<S, T> FromRequest<S> for OAuthBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = OAuthError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if content_type.starts_with("application/x-www-form-urlencoded") {
            let AppForm(value) = AppForm::<T>::from_request(req, state).await?;
            Ok(Self {
                value,
                encoding: Encoding::Form,
            })
        } else if content_type.starts_with("application/json") {
            let AppJson(value) = AppJson::<T>::from_request(req, state).await?;
            Ok(Self {
                value,
                encoding: Encoding::Json,
            })
        } else {
            Err(OAuthError::invalid_request(
                "the body must be application/x-www-form-urlencoded or application/json",
            ))
        }
    }
}
