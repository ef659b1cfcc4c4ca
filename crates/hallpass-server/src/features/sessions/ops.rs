//! Ending sessions and changing passwords.

use hallpass_core::{
    audit::AuditKind,
    password::{Password, PasswordHash, Verification},
    session::SessionId,
    user::UserId,
};
use serde::Deserialize;

use crate::{
    infra::rate_limit::Lockee,
    operation::{Caller, Client, OpError},
    state::AppState,
};

/// Which sessions a logout ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LogoutScope {
    /// This session.
    #[default]
    Local,
    /// Every other session of the user.
    Others,
    /// Every session of the user, this one included.
    Global,
}

/// Ends the sessions `scope` names; returns how many.
pub(crate) async fn logout(
    state: &AppState,
    caller: Caller<'_>,
    scope: LogoutScope,
    client: &Client,
) -> Result<usize, OpError> {
    let now = state.clock.now();
    let sessions = &state.stores.sessions;
    let user = caller.user.id;
    let revoked = match scope {
        LogoutScope::Local => usize::from(
            sessions
                .revoke_session(user, caller.session.id, now)
                .await?,
        ),
        LogoutScope::Others => sessions
            .revoke_user_sessions(user, Some(caller.session.id), now)
            .await?
            .len(),
        LogoutScope::Global => sessions.revoke_user_sessions(user, None, now).await?.len(),
    };
    tracing::info!(user = %user, session = %caller.session.id, ?scope, revoked, "logout");
    let kind = if scope == LogoutScope::Local {
        AuditKind::Logout
    } else {
        AuditKind::SessionsRevoked
    };
    let mut event = crate::audit::event(state, kind, client);
    event.actor = Some(user);
    event.subject = Some(user);
    event.session = Some(caller.session.id);
    event.detail = Some(format!("scope {scope:?}, {revoked} session(s)").to_lowercase());
    crate::audit::record(state, event).await?;
    Ok(revoked)
}

/// Ends one of the caller's own sessions; another user's id is indistinguishable from an
/// unknown one (404).
pub(crate) async fn revoke_one(
    state: &AppState,
    caller: Caller<'_>,
    id: SessionId,
    client: &Client,
) -> Result<(), OpError> {
    let revoked = state
        .stores
        .sessions
        .revoke_session(caller.user.id, id, state.clock.now())
        .await?;
    if !revoked {
        return Err(OpError::NotFound);
    }
    let mut event = crate::audit::event(state, AuditKind::SessionsRevoked, client);
    event.actor = Some(caller.user.id);
    event.subject = Some(caller.user.id);
    event.session = Some(id);
    event.detail = Some("revoked from the device list".to_owned());
    Ok(crate::audit::record(state, event).await?)
}

/// Sets `user`'s password hash and ends every session of theirs but `keep`, returning the ids
/// ended: whoever knew the old password loses access at once, on every node (the revoked set)
/// and at every resource server that reads the revocation feed (each ended session is an entry
/// there, so every access token of it is refused). The one way a password is replaced: a change
/// keeps the caller's session, a reset (no session to keep) passes `None`.
pub(crate) async fn replace_password(
    state: &AppState,
    user: UserId,
    hash: &PasswordHash,
    keep: Option<SessionId>,
) -> Result<Vec<SessionId>, OpError> {
    state.stores.users.set_password_hash(user, hash).await?;
    Ok(state
        .stores
        .sessions
        .revoke_user_sessions(user, keep, state.clock.now())
        .await?)
}

/// Replaces the password after checking the current one (an account made by social login,
/// which has none, sets its first one), and ends every other session: whoever knew the old
/// password is logged out.
pub(crate) async fn change_password(
    state: &AppState,
    caller: Caller<'_>,
    current: &str,
    new: &str,
    client: &Client,
) -> Result<(), OpError> {
    let user = &caller.user;
    let context: Vec<&str> = [
        Some(user.username.as_str()),
        user.email.as_ref().map(|e| e.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect();
    let new = Password::parse(new, "new_password", &context)?;
    // Judged per session, not per account: failed logins from elsewhere must not lock the owner
    // out of changing a password they may suspect is known (docs/operations.md, "Brute force
    // and lockout").
    let lockee = Lockee::Session(caller.session.id);
    state.limits.check_lockout(lockee).await?;
    // An account made by social login has no password to know: its first one is set by the
    // session alone (the provider vouched for it moments or days ago, as for any other change
    // this session may make).
    let first = !user.password_hash.is_usable();
    if !first
        && state
            .passwords
            .verify(current, user.password_hash.clone())
            .await?
            == Verification::Mismatch
    {
        state.limits.record_failure(lockee).await;
        return Err(OpError::WrongCurrentPassword);
    }
    state.limits.record_success(lockee).await;
    let hash = state.passwords.hash(new).await?;
    let revoked = replace_password(state, user.id, &hash, Some(caller.session.id)).await?;
    let mut event = crate::audit::event(state, AuditKind::PasswordChanged, client);
    event.actor = Some(user.id);
    event.subject = Some(user.id);
    event.session = Some(caller.session.id);
    event.detail = Some(format!(
        "{}{} other session(s) revoked",
        if first { "first password set, " } else { "" },
        revoked.len()
    ));
    Ok(crate::audit::record(state, event).await?)
}
