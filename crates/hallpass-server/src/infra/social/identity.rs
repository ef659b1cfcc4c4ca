//! What a provider's login yields, whichever protocol it speaks (OpenID Connect or GitHub's
//! OAuth): the checked identity.

/// Who the provider says the user is, once every check passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    /// The provider's stable id for the user.
    pub subject: String,
    /// Their email, if the provider shared it.
    pub email: Option<String>,
    /// Whether the provider says it verified that email.
    pub email_verified: bool,
    /// A username they prefer, if any.
    pub preferred_username: Option<String>,
}
