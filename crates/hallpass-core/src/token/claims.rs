//! The claims of an access token.

use serde::{Deserialize, Serialize};

/// What an access token says (RFC 9068 plus `sid` and `roles`). Times are whole seconds since
/// the epoch; a number of any other type (a string, a float) is refused when parsing.
///
/// Claims it does not know are ignored (RFC 7519 §4): they can only come signed by this
/// deployment's own keys, from a newer node, and during a rolling upgrade an older node must
/// still accept the tokens a newer one issues (this is how `email_verified`, `amr` and
/// `auth_time` arrived). The header, which says how to verify, stays strict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer: the public URL.
    pub iss: String,
    /// Subject: the user id.
    pub sub: String,
    /// Audience.
    pub aud: String,
    /// Expiry.
    pub exp: i64,
    /// Issued at.
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Token id.
    pub jti: String,
    /// The session the token belongs to.
    pub sid: String,
    /// The user's roles when the token was issued.
    pub roles: Vec<String>,
    /// Whether the user's email address was verified when the token was issued (absent in
    /// tokens from before it was added: false).
    #[serde(default)]
    pub email_verified: bool,
    /// How the session was authenticated: RFC 8176 values (`pwd`, `otp`, `mfa`, …). Absent in
    /// tokens from before it was added.
    #[serde(default)]
    pub amr: Vec<String>,
    /// When the user last authenticated for the session (seconds since the epoch); 0 in tokens
    /// from before it was added, which is never recent enough for a sensitive action.
    #[serde(default)]
    pub auth_time: i64,
}
