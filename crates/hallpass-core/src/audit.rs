//! The audit log's vocabulary. Events name people and sessions, never secrets.

use serde::Serialize;
use time::OffsetDateTime;

use crate::{session::SessionId, user::UserId};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// An account was created.
    Signup,
    /// A login succeeded.
    LoginSucceeded,
    /// A login failed (wrong password, unknown user, disabled account).
    LoginFailed,
    /// A session was ended by its own logout.
    Logout,
    /// Sessions were revoked (another device, "log out everywhere", session limit).
    SessionsRevoked,
    /// A password was changed.
    PasswordChanged,
    /// An administrator ended all of a user's sessions.
    AdminForceLogout,
    /// An administrator changed a user's roles or disabled flag.
    AdminUserUpdated,
    /// An administrator deleted a user.
    AdminUserDeleted,
    /// An old refresh token was presented again: the family was copied, the session revoked.
    RefreshReuseDetected,
    /// A token was revoked through `/v1/revoke`.
    TokenRevoked,
    /// A social login provider's identity was linked to an account (or an account created by one).
    IdentityLinked,
    /// A social login provider's identity was unlinked from an account.
    IdentityUnlinked,
    /// A password reset was asked for (`detail` names what was typed when no account matched).
    PasswordResetRequested,
    /// A password was set through an emailed reset link; every session ended.
    PasswordReset,
    /// An address was proven by an emailed link or code.
    EmailVerified,
    /// A change of address was asked for; it waits for confirmation at the new address.
    EmailChangeRequested,
    /// A change of address was confirmed and took effect.
    EmailChanged,
    /// A login completed with an emailed code or link instead of a password.
    EmailLogin,
    /// A queued mail was given up on (`detail`: the SMTP server's answer).
    MailFailed,
    /// A second factor was enrolled and confirmed (`detail`: its kind and name).
    FactorAdded,
    /// A second factor was removed, by its owner or an administrator (`detail`: which).
    FactorRemoved,
    /// A new set of recovery codes replaced the old one.
    RecoveryCodesRegenerated,
    /// A login's second step was completed with a recovery code.
    RecoveryCodeUsed,
}

impl AuditKind {
    /// Every kind, for parsing filters.
    pub const ALL: [Self; 24] = [
        Self::Signup,
        Self::LoginSucceeded,
        Self::LoginFailed,
        Self::Logout,
        Self::SessionsRevoked,
        Self::PasswordChanged,
        Self::AdminForceLogout,
        Self::AdminUserUpdated,
        Self::AdminUserDeleted,
        Self::RefreshReuseDetected,
        Self::TokenRevoked,
        Self::IdentityLinked,
        Self::IdentityUnlinked,
        Self::PasswordResetRequested,
        Self::PasswordReset,
        Self::EmailVerified,
        Self::EmailChangeRequested,
        Self::EmailChanged,
        Self::EmailLogin,
        Self::MailFailed,
        Self::FactorAdded,
        Self::FactorRemoved,
        Self::RecoveryCodesRegenerated,
        Self::RecoveryCodeUsed,
    ];

    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Signup => "signup",
            Self::LoginSucceeded => "login_succeeded",
            Self::LoginFailed => "login_failed",
            Self::Logout => "logout",
            Self::SessionsRevoked => "sessions_revoked",
            Self::PasswordChanged => "password_changed",
            Self::AdminForceLogout => "admin_force_logout",
            Self::AdminUserUpdated => "admin_user_updated",
            Self::AdminUserDeleted => "admin_user_deleted",
            Self::RefreshReuseDetected => "refresh_reuse_detected",
            Self::TokenRevoked => "token_revoked",
            Self::IdentityLinked => "identity_linked",
            Self::IdentityUnlinked => "identity_unlinked",
            Self::PasswordResetRequested => "password_reset_requested",
            Self::PasswordReset => "password_reset",
            Self::EmailVerified => "email_verified",
            Self::EmailChangeRequested => "email_change_requested",
            Self::EmailChanged => "email_changed",
            Self::EmailLogin => "email_login",
            Self::MailFailed => "mail_failed",
            Self::FactorAdded => "factor_added",
            Self::FactorRemoved => "factor_removed",
            Self::RecoveryCodesRegenerated => "recovery_codes_regenerated",
            Self::RecoveryCodeUsed => "recovery_code_used",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// When.
    pub at: OffsetDateTime,
    /// What.
    pub kind: AuditKind,
    /// Who acted (the logged-in user, the admin), if known.
    pub actor: Option<UserId>,
    /// Whom it concerned, if another user or the same.
    pub subject: Option<UserId>,
    /// The session concerned, if one.
    pub session: Option<SessionId>,
    /// The client address.
    pub ip: Option<String>,
    /// Free-form detail (a reason, a count, a username that did not exist). Never a secret.
    pub detail: Option<String>,
}

impl AuditEvent {
    /// An event of `kind` at `at`, with everything else empty.
    pub fn new(kind: AuditKind, at: OffsetDateTime) -> Self {
        Self {
            at,
            kind,
            actor: None,
            subject: None,
            session: None,
            ip: None,
            detail: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for kind in AuditKind::ALL {
            assert_eq!(AuditKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(AuditKind::parse("nope"), None);
    }
}
