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
    error::ApiError,
    http::{client::Client, extract::Authenticated},
    state::AppState,
};

/// The user with this id (as text from a path), or 404.
pub(crate) async fn existing_user(state: &AppState, id: &str) -> Result<User, ApiError> {
    let id = UserId(crate::http::extract::path_id(id)?);
    state
        .stores
        .users
        .user_by_id(id)
        .await?
        .ok_or(ApiError::NotFound)
}

fn admin_event(
    state: &AppState,
    kind: AuditKind,
    admin: &Authenticated,
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
    admin: &Authenticated,
    user: &User,
    client: &Client,
) -> Result<usize, ApiError> {
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
    admin: &Authenticated,
    user: &User,
    session: SessionId,
    client: &Client,
) -> Result<(), ApiError> {
    let revoked = state
        .stores
        .sessions
        .revoke_session(user.id, session, state.clock.now())
        .await?;
    if !revoked {
        return Err(ApiError::NotFound);
    }
    let mut event = admin_event(state, AuditKind::AdminForceLogout, admin, user.id, client);
    event.session = Some(session);
    event.detail = Some("1 session revoked".to_owned());
    crate::audit::record(state, event).await
}

/// Changes roles and/or the disabled flag; [`ApiError::LastAdmin`] (nothing changed) if that
/// would leave no enabled administrator, the caller included. Disabling also ends every session,
/// so that the account stays logged out if it is enabled again. Either puts the user in the
/// revocation feed in the same store transaction (their tokens issued so far are refused).
pub(crate) async fn update_user(
    state: &AppState,
    admin: &Authenticated,
    target: &User,
    update: &UserUpdate,
    client: &Client,
) -> Result<User, ApiError> {
    let user = state
        .stores
        .users
        .update_user(target.id, update, state.clock.now())
        .await?
        .ok_or(ApiError::NotFound)?;
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
/// feed) and its posts; [`ApiError::LastAdmin`] if it is the last enabled administrator.
pub(crate) async fn delete_user(
    state: &AppState,
    admin: &Authenticated,
    user: &User,
    client: &Client,
) -> Result<(), ApiError> {
    if !state
        .stores
        .users
        .delete_user(user.id, state.clock.now())
        .await?
    {
        return Err(ApiError::NotFound);
    }
    let mut event = admin_event(state, AuditKind::AdminUserDeleted, admin, user.id, client);
    event.detail = Some(format!("username {:?}", user.username));
    crate::audit::record(state, event).await
}
