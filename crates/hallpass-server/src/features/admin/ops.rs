//! What administrators do to other accounts: force logout, roles, disabling, deletion, ending
//! one session. Shared by the JSON admin API and the `/admin` pages; every action is audited
//! with the administrator as actor.

use hallpass_core::{
    audit::{AuditEvent, AuditKind},
    session::SessionId,
    user::{User, UserId},
};
use hallpass_store::UserUpdate;

use crate::{
    operation::{Caller, Client, OpError},
    state::AppState,
};

// Every write below needs an authentication in the last ten minutes (docs/factors.md,
// "Step-up"): a session left open is not enough to change other people's accounts.

/// The user with this id, or [`OpError::NotFound`].
pub(crate) async fn existing_user(state: &AppState, id: UserId) -> Result<User, OpError> {
    state
        .stores
        .users
        .user_by_id(id)
        .await?
        .ok_or(OpError::NotFound)
}

fn admin_event(
    state: &AppState,
    kind: AuditKind,
    admin: Caller<'_>,
    subject: UserId,
    client: &Client,
) -> AuditEvent {
    let mut event = crate::audit::event(state, kind, client);
    event.actor = Some(admin.user.id);
    event.subject = Some(subject);
    event
}

/// Ends every session of `user` ("log out everywhere", by an administrator). Returns how many.
pub(crate) async fn force_logout(
    state: &AppState,
    admin: Caller<'_>,
    user: &User,
    client: &Client,
) -> Result<usize, OpError> {
    crate::reauth::require_recent(state, admin)?;
    let revoked = state
        .stores
        .sessions
        .revoke_user_sessions(user.id, None, state.clock.now())
        .await?;
    let mut event = admin_event(state, AuditKind::AdminForceLogout, admin, user.id, client);
    event.detail = Some(format!("{} session(s) revoked", revoked.len()));
    crate::audit::record(state, event).await?;
    Ok(revoked.len())
}

/// Ends one session of `user`; 404 if it is not theirs or already over.
pub(crate) async fn revoke_session(
    state: &AppState,
    admin: Caller<'_>,
    user: &User,
    session: SessionId,
    client: &Client,
) -> Result<(), OpError> {
    crate::reauth::require_recent(state, admin)?;
    let revoked = state
        .stores
        .sessions
        .revoke_session(user.id, session, state.clock.now())
        .await?;
    if !revoked {
        return Err(OpError::NotFound);
    }
    let mut event = admin_event(state, AuditKind::AdminForceLogout, admin, user.id, client);
    event.session = Some(session);
    event.detail = Some("1 session revoked".to_owned());
    Ok(crate::audit::record(state, event).await?)
}

/// Changes roles and/or the disabled flag; [`OpError::LastAdmin`] (nothing changed) if that
/// would leave no enabled administrator, the caller included. Disabling also ends every session,
/// so that the account stays logged out if it is enabled again. Either puts the user in the
/// revocation feed in the same store transaction (their tokens issued so far are refused).
pub(crate) async fn update_user(
    state: &AppState,
    admin: Caller<'_>,
    target: &User,
    update: &UserUpdate,
    client: &Client,
) -> Result<User, OpError> {
    crate::reauth::require_recent(state, admin)?;
    let user = state
        .stores
        .users
        .update_user(target.id, update, state.clock.now())
        .await?
        .ok_or(OpError::NotFound)?;
    let mut detail = Vec::new();
    if let Some(roles) = &update.roles {
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        detail.push(format!("roles [{}]", names.join(", ")));
    }
    if let Some(disabled) = update.disabled {
        detail.push(format!("disabled {disabled}"));
        if disabled {
            let revoked = state
                .stores
                .sessions
                .revoke_user_sessions(user.id, None, state.clock.now())
                .await?;
            detail.push(format!("{} session(s) revoked", revoked.len()));
        }
    }
    let mut event = admin_event(state, AuditKind::AdminUserUpdated, admin, user.id, client);
    event.detail = Some(detail.join(", "));
    crate::audit::record(state, event).await?;
    Ok(user)
}

/// Deletes the account, its sessions (revoked at once on every node, and in the revocation
/// feed) and its posts; [`OpError::LastAdmin`] if it is the last enabled administrator.
pub(crate) async fn delete_user(
    state: &AppState,
    admin: Caller<'_>,
    user: &User,
    client: &Client,
) -> Result<(), OpError> {
    crate::reauth::require_recent(state, admin)?;
    if !state
        .stores
        .users
        .delete_user(user.id, state.clock.now())
        .await?
    {
        return Err(OpError::NotFound);
    }
    let mut event = admin_event(state, AuditKind::AdminUserDeleted, admin, user.id, client);
    event.detail = Some(format!("username {:?}", user.username));
    Ok(crate::audit::record(state, event).await?)
}
