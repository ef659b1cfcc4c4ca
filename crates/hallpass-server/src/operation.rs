//! What every operation (`features/*/ops.rs`) takes and returns: plain data in, an error of its
//! own out. No HTTP type appears here, so an operation can be called from an API handler, a page,
//! the CLI or a test alike; `error.rs` maps [`OpError`] to problem+json once, and the page layer
//! (`http/page_error.rs`) renders it as the error page once.

use std::{net::IpAddr, time::Duration};

use hallpass_core::{ValidationError, session::Session, token::KeyError, user::User};
use hallpass_store::StoreError;

use crate::infra::{
    passwords::HashingError, rate_limit::Limited, render::RenderError, social::SocialError,
};

/// Who is on the other end: the address (for rate limits and the audit log) and the user agent
/// (for the device list). The HTTP toolkit builds it from the connection (`http/client.rs`).
#[derive(Debug, Clone)]
pub(crate) struct Client {
    /// The client's address: the peer's, or taken from `X-Forwarded-For` when the peer is a
    /// trusted proxy.
    pub ip: IpAddr,
    /// `User-Agent`, cleaned and truncated.
    pub user_agent: Option<String>,
}

/// Who is acting: a live session and its user, however the session was proved (cookie or
/// Bearer; the extractors decide that, and CSRF, before an operation runs).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caller<'a> {
    /// The session.
    pub session: &'a Session,
    /// Its user.
    pub user: &'a User,
}

/// Why an operation failed. Each variant is a fact about the request or the server, never a
/// status code: that choice is made once, in `error.rs`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OpError {
    /// Input breaks domain rules; every problem found is listed.
    #[error("the request has invalid fields")]
    Invalid(Vec<ValidationError>),
    /// Wrong username or password (never saying which).
    #[error("the username or password is wrong")]
    InvalidCredentials,
    /// The current password given to change it is wrong.
    #[error("the current password is wrong")]
    WrongCurrentPassword,
    /// The caller is no longer anyone: their account went away while they acted.
    #[error("authentication is required")]
    Unauthenticated,
    /// No such thing (or not the caller's, which must look the same).
    #[error("not found")]
    NotFound,
    /// The username is in use.
    #[error("the username is taken")]
    UsernameTaken,
    /// `max_sessions_per_user` reached under `reject_new`.
    #[error("you are logged in on as many devices as allowed; log out on one first")]
    SessionLimitReached,
    /// Another account has this email address.
    #[error("another account has this email address")]
    EmailTaken,
    /// The account's email address must be verified first (`email.require_verified_email`).
    #[error(
        "confirm your email address first: follow the link in the mail we sent, or ask for a new one"
    )]
    EmailUnverified,
    /// An emailed link or code is not (or no longer) good: malformed, used, replaced by a newer
    /// one, or expired. Nothing changed.
    #[error(
        "this link or code is not valid (it may have expired, been used, or been replaced by a newer one)"
    )]
    InvalidEmailToken,
    /// The caller's role needs a second factor (`[factors] required_for_roles`) and the grace
    /// to set one up is over.
    #[error("your role requires two-factor authentication: set it up at /account/factors")]
    FactorRequired,
    /// A sensitive action needs the current password, or a more recent authentication.
    #[error("confirm it is you: enter your current password (or sign in again)")]
    ReauthRequired,
    /// A login's second step came with a challenge that is not (or no longer) good: malformed,
    /// used, voided by wrong codes, or expired. Nothing changed.
    #[error("this sign-in attempt has expired or was already used; log in again")]
    InvalidChallenge,
    /// The change would leave no enabled administrator; nothing changed.
    #[error(
        "this would leave no enabled administrator; make another account an administrator first"
    )]
    LastAdmin,
    /// Too many attempts from this address, account, device or session.
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
    #[error(transparent)]
    Social(#[from] SocialError),
    /// The database is unreachable or cannot take writes right now.
    #[error("the server cannot reach its database right now; try again shortly")]
    StoreUnavailable(#[source] StoreError),
    /// The server's fault; logged with its cause where it is answered.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<ValidationError> for OpError {
    fn from(error: ValidationError) -> Self {
        Self::Invalid(vec![error])
    }
}

impl From<StoreError> for OpError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::UsernameTaken => Self::UsernameTaken,
            StoreError::EmailTaken => Self::EmailTaken,
            StoreError::SessionLimitReached => Self::SessionLimitReached,
            StoreError::LastAdministrator => Self::LastAdmin,
            StoreError::IdentityTaken => Self::Social(SocialError::AlreadyLinked),
            unavailable if unavailable.is_unavailable() => Self::StoreUnavailable(unavailable),
            other => Self::Internal(other.into()),
        }
    }
}

/// A full hashing queue is the server being busy (retry soon); anything else is ours.
impl From<HashingError> for OpError {
    fn from(error: HashingError) -> Self {
        match error {
            HashingError::QueueFull => Self::Overloaded {
                retry_after: Duration::from_secs(1),
            },
            other => Self::Internal(other.into()),
        }
    }
}

impl From<Limited> for OpError {
    fn from(limited: Limited) -> Self {
        Self::RateLimited {
            retry_after: limited.retry_after,
        }
    }
}

/// Signing with our own key failed: ours.
impl From<KeyError> for OpError {
    fn from(error: KeyError) -> Self {
        Self::Internal(error.into())
    }
}

/// A template failed: ours.
impl From<RenderError> for OpError {
    fn from(error: RenderError) -> Self {
        Self::Internal(error.into())
    }
}

impl From<getrandom::Error> for OpError {
    fn from(error: getrandom::Error) -> Self {
        Self::Internal(anyhow::anyhow!("no randomness: {error}"))
    }
}
