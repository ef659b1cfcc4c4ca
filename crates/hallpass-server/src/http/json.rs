//! The JSON shapes of the API (docs/design.md §4 "Shapes").

use hallpass_core::{
    session::{Session, SessionPolicy},
    user::{Email, Role, User},
};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

/// `{id, username, email, email_verified, roles, created_at}`.
#[derive(Debug, Serialize)]
pub(crate) struct UserJson {
    id: Uuid,
    username: String,
    email: Option<Email>,
    email_verified: bool,
    roles: Vec<Role>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

impl From<&User> for UserJson {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.0,
            username: user.username.clone(),
            email: user.email.clone(),
            email_verified: user.email_verified,
            roles: user.roles.clone(),
            created_at: user.created_at,
        }
    }
}

/// The admin view of a user: the public shape plus `disabled`.
#[derive(Debug, Serialize)]
pub(crate) struct AdminUserJson {
    #[serde(flatten)]
    user: UserJson,
    disabled: bool,
}

impl From<&User> for AdminUserJson {
    fn from(user: &User) -> Self {
        Self {
            user: UserJson::from(user),
            disabled: user.disabled,
        }
    }
}

/// `{id, kind, created_at, last_seen_at, expires_at, user_agent, ip, current}`.
#[derive(Debug, Serialize)]
pub(crate) struct SessionJson {
    id: Uuid,
    kind: &'static str,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    last_seen_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
    user_agent: Option<String>,
    ip: Option<String>,
    current: bool,
    /// How the sign-in was made: RFC 8176 values (`pwd`, `otp`, `mfa`, …).
    amr: Vec<&'static str>,
    /// When the user last authenticated for this session.
    #[serde(with = "time::serde::rfc3339")]
    auth_time: OffsetDateTime,
}

impl SessionJson {
    /// The session as its owner sees it; `current` marks the one making the request.
    pub(crate) fn new(session: &Session, policy: &SessionPolicy, current: bool) -> Self {
        Self {
            id: session.id.0,
            kind: session.kind.as_str(),
            created_at: session.created_at,
            last_seen_at: session.last_seen_at,
            expires_at: policy.expires_at(session),
            user_agent: session.user_agent.clone(),
            ip: session.ip.clone(),
            current,
            amr: session.amr.values(),
            auth_time: session.auth_time,
        }
    }
}

/// A second factor as its owner, or an administrator, sees it (never its secret).
#[derive(Serialize)]
pub(crate) struct FactorJson {
    id: Uuid,
    kind: &'static str,
    name: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    last_used_at: Option<OffsetDateTime>,
}

impl From<&hallpass_store::Factor> for FactorJson {
    fn from(factor: &hallpass_store::Factor) -> Self {
        Self {
            id: factor.id.0,
            kind: factor.kind.as_str(),
            name: factor.name.clone(),
            created_at: factor.created_at,
            last_used_at: factor.last_used_at,
        }
    }
}
