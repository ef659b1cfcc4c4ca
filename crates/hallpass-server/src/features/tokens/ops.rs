//! Exchanging a refresh token (docs/design.md §1's state machine, executed against the store),
//! and revoking a token (RFC 7009).

use hallpass_core::{
    audit::AuditKind,
    session::{Session, SessionId, SessionKind},
    token::{RefreshDecision, RefreshToken, decide},
    user::{User, UserId},
};

use crate::{
    operation::{Client, OpError},
    state::AppState,
};

/// Why a refresh token was refused (always `invalid_grant` on the wire).
#[derive(Debug, thiserror::Error)]
pub(crate) enum RefreshError {
    /// Malformed, unknown session, bad MAC, revoked, expired, disabled user.
    #[error("the refresh token is invalid, expired or revoked")]
    Invalid,
    /// An old generation came back: the session has been revoked.
    #[error("the refresh token was already used; the session has been ended")]
    Reused,
    /// The server failed.
    #[error(transparent)]
    Op(#[from] OpError),
}

/// The session and user after a successful exchange; the session's family holds the generation
/// whose token is the answer.
#[derive(Debug)]
pub(crate) struct Refreshed {
    /// The session, at the generation to answer with.
    pub session: Session,
    /// Its user.
    pub user: User,
}

/// Runs the state machine for `presented`, always against the row as the database holds it now:
/// a node's cached copy may hold an older generation (another node rotated since), and deciding
/// on it would call a good refresh theft. A lost compare-and-set (another request rotated the
/// same generation first) is re-decided against the fresh row, where it is a replay inside the
/// grace window, so concurrent refreshes all get the same successor.
pub(crate) async fn exchange(
    state: &AppState,
    presented: &str,
    client: &Client,
) -> Result<Refreshed, RefreshError> {
    let token = RefreshToken::parse(presented).ok_or(RefreshError::Invalid)?;
    for _ in 0..3 {
        let now = state.clock.now();
        let Some(read) = state
            .stores
            .sessions
            .session_for_refresh(token.session)
            .await
            .map_err(OpError::from)?
        else {
            return Err(RefreshError::Invalid);
        };
        let (session, user) = (read.session, read.user);
        let Some(family) = session.refresh.clone() else {
            return Err(RefreshError::Invalid);
        };
        let usable = session.kind == SessionKind::Token
            && session.revoked_at.is_none()
            && now < session.absolute_expires_at
            && !user.disabled;
        if !usable || !token.is_authentic(&state.tokens.refresh_key, &family.salt) {
            return Err(RefreshError::Invalid);
        }
        // Measured on this node's clock (which tests inject) and on the database's (which every
        // node shares); the longer counts, so a node whose clock runs fast or slow can only
        // narrow the grace window, never stretch it.
        let since_rotation = (now - family.state.rotated_at).max(read.since_rotation);
        match decide(
            token.generation,
            family.state.generation,
            since_rotation,
            state.tokens.refresh_grace,
        ) {
            RefreshDecision::Rotate { from } => {
                if state
                    .stores
                    .sessions
                    .rotate_refresh(session.id, from, now)
                    .await
                    .map_err(OpError::from)?
                {
                    let mut session = session;
                    if let Some(family) = session.refresh.as_mut() {
                        family.state.generation = from + 1;
                        family.state.rotated_at = now;
                    }
                    return Ok(Refreshed { session, user });
                }
                // Lost the race: read again and decide again.
            }
            RefreshDecision::Replay { .. } => return Ok(Refreshed { session, user }),
            RefreshDecision::Theft => {
                state
                    .stores
                    .sessions
                    .revoke_session(user.id, session.id, now)
                    .await
                    .map_err(OpError::from)?;
                tracing::warn!(user = %user.id, session = %session.id, ip = %client.ip, "refresh token reuse: session revoked");
                let mut event = crate::audit::event(state, AuditKind::RefreshReuseDetected, client);
                event.subject = Some(user.id);
                event.session = Some(session.id);
                event.detail = Some(format!(
                    "generation {} presented, current {}",
                    token.generation, family.state.generation
                ));
                crate::audit::record(state, event)
                    .await
                    .map_err(OpError::from)?;
                return Err(RefreshError::Reused);
            }
        }
    }
    Err(RefreshError::Op(OpError::Internal(anyhow::anyhow!(
        "refresh kept losing its compare-and-set"
    ))))
}

/// Ends the session `presented` (a refresh token, or an access token, expired or not) belongs
/// to, and audits it if it was still live. Returns that session, or `None` when the token is not
/// one of ours: the caller answers the same either way, so nobody learns which tokens exist.
pub(crate) async fn revoke(
    state: &AppState,
    presented: &str,
    client: &Client,
) -> Result<Option<SessionId>, OpError> {
    let Some((owner, id)) = session_of(state, presented).await? else {
        return Ok(None);
    };
    if state
        .stores
        .sessions
        .revoke_session(owner, id, state.clock.now())
        .await?
    {
        let mut event = crate::audit::event(state, AuditKind::TokenRevoked, client);
        event.subject = Some(owner);
        event.session = Some(id);
        crate::audit::record(state, event).await?;
    }
    Ok(Some(id))
}

/// The session an authentic refresh or access token belongs to (expired access tokens count:
/// revoking one still ends its session).
async fn session_of(state: &AppState, token: &str) -> Result<Option<(UserId, SessionId)>, OpError> {
    if let Some(refresh) = RefreshToken::parse(token) {
        let found = state.stores.sessions.session_by_id(refresh.session).await?;
        return Ok(found.and_then(|(session, user)| {
            let family = session.refresh.as_ref()?;
            refresh
                .is_authentic(&state.tokens.refresh_key, &family.salt)
                .then_some((user.id, session.id))
        }));
    }
    let keys = state.tokens.keyring.current();
    let Ok(claims) = keys.verifier.verify_signed(token) else {
        return Ok(None);
    };
    let (Ok(user), Ok(sid)) = (
        uuid::Uuid::parse_str(&claims.sub),
        uuid::Uuid::parse_str(&claims.sid),
    ) else {
        return Ok(None);
    };
    Ok(Some((UserId(user), SessionId(sid))))
}
