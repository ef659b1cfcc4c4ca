//! Opening a session for a user who has proved who they are: the last step of every sign-in.

use hallpass_core::{
    audit::AuditKind,
    clock::{from_micros, to_micros},
    factor::amr::Amr,
    session::{RefreshFamily, Session, SessionId, SessionKind, SessionToken},
    token::RefreshState,
    user::User,
};
use uuid::Uuid;

use crate::{
    operation::{Client, OpError},
    state::AppState,
};

/// A successful login.
#[derive(Debug)]
pub(crate) struct LoginOutcome {
    /// Who logged in.
    pub user: User,
    /// The new session.
    pub session: Session,
    /// Its cookie secret; shown once, never stored. (A token session's is never shown: its
    /// holder proves itself with access and refresh tokens instead.)
    pub token: SessionToken,
}

/// Opens a new session for `user`, who has just proved who they are (`amr`: a password, a
/// provider's ID token, and a second factor where the account has one): enforces the session
/// limit, audits the login and any eviction, and ends `previous` so a browser never holds two
/// sessions. Callers other than the second step go through
/// [`first_factor_passed`](super::second_step::first_factor_passed).
pub(crate) async fn open_session(
    state: &AppState,
    user: User,
    client: &Client,
    previous: Option<&Session>,
    kind: SessionKind,
    amr: Amr,
) -> Result<LoginOutcome, OpError> {
    let token = SessionToken::from_random(crate::infra::random::random_bytes()?);
    // Whole microseconds, as the store keeps them, so the answer matches later reads.
    let now = from_micros(to_micros(state.clock.now()));
    let policy = &state.config.session_policy;
    let session = Session {
        id: SessionId(Uuid::new_v4()),
        user_id: user.id,
        kind,
        token_hash: token.hash(),
        created_at: now,
        last_seen_at: now,
        absolute_expires_at: now
            + match kind {
                SessionKind::Cookie => policy.lifetime,
                SessionKind::Token => state.tokens.refresh_ttl,
            },
        user_agent: client.user_agent.clone(),
        ip: Some(client.ip.to_string()),
        revoked_at: None,
        amr,
        auth_time: now,
        refresh: match kind {
            SessionKind::Cookie => None,
            SessionKind::Token => Some(RefreshFamily {
                salt: crate::infra::random::random_bytes()?,
                state: RefreshState {
                    generation: 0,
                    rotated_at: now,
                },
            }),
        },
    };
    let evicted = state
        .stores
        .sessions
        .create_session(&session, policy.limit(), policy.idle_cutoff(now))
        .await?;
    state.metrics.login(true);
    tracing::info!(user = %user.id, session = %session.id, ip = %client.ip, "login succeeded");

    let mut event = crate::audit::event(state, AuditKind::LoginSucceeded, client);
    event.actor = Some(user.id);
    event.subject = Some(user.id);
    event.session = Some(session.id);
    crate::audit::record(state, event).await?;
    for id in evicted {
        let mut event = crate::audit::event(state, AuditKind::SessionsRevoked, client);
        event.subject = Some(user.id);
        event.session = Some(id);
        event.detail = Some("evicted by max_sessions_per_user".to_owned());
        crate::audit::record(state, event).await?;
    }
    if let Some(previous) = previous {
        state
            .stores
            .sessions
            .revoke_session(previous.user_id, previous.id, now)
            .await?;
    }
    Ok(LoginOutcome {
        user,
        session,
        token,
    })
}
