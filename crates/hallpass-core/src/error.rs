//! Errors of the domain layer.

/// Input that does not satisfy a domain rule: names the field and says why, in words fit for the
/// person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// The request field at fault, as the client named it.
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl ValidationError {
    /// A validation error on `field`.
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// Why a cookie-authenticated unsafe request was refused as a possible cross-site request forgery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CsrfRejection {
    /// `Sec-Fetch-Site` says the request came from another site or origin that is not allowed.
    #[error("the request came from another site")]
    CrossSite,
    /// `Origin` names an origin that is neither ours nor in the allowed list.
    #[error("the request's Origin is not allowed")]
    ForeignOrigin,
    /// No CSRF token was sent.
    #[error("the CSRF token is missing")]
    MissingToken,
    /// A CSRF token was sent but it does not belong to this session.
    #[error("the CSRF token does not match this session")]
    WrongToken,
    /// Forward auth was told two different methods (or an unreadable one) for the request it
    /// vouches for, so it cannot tell whether the origin check applies.
    #[error("the forwarded request's method is ambiguous")]
    AmbiguousMethod,
}
