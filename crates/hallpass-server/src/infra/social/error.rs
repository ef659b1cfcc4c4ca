//! Why a social login failed, in the provider machinery's own terms (mapped to HTTP in
//! `error.rs`).

/// Why a social login failed.
#[derive(Debug, thiserror::Error)]
pub enum SocialError {
    /// The provider settings cannot be used.
    #[error("{0}")]
    Config(String),
    /// The callback does not belong to a login this browser started, or breaks the protocol.
    #[error("{0}")]
    Rejected(&'static str),
    /// The user cancelled at the provider.
    #[error("the login was cancelled at the provider")]
    Cancelled,
    /// The provider could not be reached or answered nonsense.
    #[error("{0}")]
    Provider(String),
    /// The provider refused to exchange the code (reused, wrong verifier, expired).
    #[error("the provider refused the code: {0}")]
    Exchange(String),
    /// The ID token failed a check (signature, issuer, audience, expiry, nonce). The detail is
    /// for the log, not the page.
    #[error("the ID token is not valid")]
    IdToken(String),
    /// The provider account is linked to another hallpass account already.
    #[error("this account at the provider is linked to another user already")]
    AlreadyLinked,
    /// The account has an identity at this provider already (unlink it first).
    #[error("your account is linked to this provider already")]
    AlreadyLinkedHere,
    /// Unlinking would leave the account without a way to log in.
    #[error("this is your only way to log in: set a password or link another provider first")]
    LastWayToLogIn,
}
