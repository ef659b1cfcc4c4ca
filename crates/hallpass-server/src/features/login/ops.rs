//! Logging in: one argon2 verify whatever the outcome, and a brand-new session on success.

use hallpass_core::{
    audit::AuditKind,
    clock::{from_micros, to_micros},
    device::DeviceToken,
    password::{Password, Verification},
    session::{RefreshFamily, Session, SessionId, SessionKind, SessionToken},
    token::RefreshState,
    user::User,
};
use uuid::Uuid;

use crate::{
    infra::rate_limit::Lockee,
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

/// Checks the credentials and opens a session. Unknown user, wrong password and disabled
/// account cost the same argon2 verify and get the same answer, so the response reveals nothing
/// about which usernames exist. `previous` is a session the client presented, ended on success
/// so a browser never holds two.
///
/// `device` is the genuine device cookie the client presented, if any. When it names the account
/// tried, the attempt is judged by that device's own failure count, so failures from elsewhere
/// (someone locking the account on purpose) do not lock the owner's browser out; otherwise by
/// the account's. Either way a failure counts only against what judged it, and a success clears
/// only that: a known device's success does not unlock the account for everyone else.
pub(crate) async fn login(
    state: &AppState,
    username: &str,
    password: &str,
    client: &Client,
    previous: Option<&Session>,
    kind: SessionKind,
    device: Option<&DeviceToken>,
) -> Result<LoginOutcome, OpError> {
    // First, so that an address over its budget neither costs a lookup nor counts failures.
    state.limits.check_ip(client.ip).await?;
    // A username or an email address (usernames cannot hold `@`).
    let user = crate::email_tokens::user_by_login(state, username).await?;
    // One account, one lockout, whichever of its names is typed.
    let account = match &user {
        Some(user) => user.username.to_ascii_lowercase(),
        None => username.trim().to_ascii_lowercase(),
    };
    let lockee = match (device, &user) {
        (Some(device), Some(user)) if device.user == user.id => Lockee::Device(device.device),
        _ => Lockee::Account(&account),
    };
    state.limits.check_lockout(lockee).await?;
    let verification = match &user {
        Some(user) => {
            state
                .passwords
                .verify(password, user.password_hash.clone())
                .await?
        }
        None => {
            state.passwords.verify_dummy(password).await?;
            Verification::Mismatch
        }
    };
    let user = match (user, verification) {
        (Some(user), Verification::Match { needs_rehash }) if !user.disabled => {
            if needs_rehash {
                let rehashed = state
                    .passwords
                    .hash(Password::already_accepted(password))
                    .await?;
                state
                    .stores
                    .users
                    .set_password_hash(user.id, &rehashed)
                    .await?;
            }
            user
        }
        (user, verification) => {
            state.limits.record_failure(lockee).await;
            state.metrics.login(false);
            let mut event = crate::audit::event(state, AuditKind::LoginFailed, client);
            event.subject = user.as_ref().map(|u| u.id);
            event.detail = Some(match (&user, verification) {
                // Not the name itself: people type passwords into the username field.
                (None, _) => "unknown username".to_owned(),
                (Some(_), Verification::Mismatch) => "wrong password".to_owned(),
                (Some(_), Verification::Match { .. }) => "account disabled".to_owned(),
            });
            tracing::info!(ip = %client.ip, reason = event.detail.as_deref(), "login failed");
            crate::audit::record(state, event).await?;
            return Err(OpError::InvalidCredentials);
        }
    };

    state.limits.record_success(lockee).await;
    // Only now, after the password proved who is asking, may the answer say more than "wrong".
    if state.mail.settings.require_verified_email && !user.email_verified {
        return Err(OpError::EmailUnverified);
    }
    let outcome = open_session(state, user, client, previous, kind).await?;
    Ok(outcome)
}

/// Opens a new session for `user`, who has just proved who they are (a password, a provider's
/// ID token): enforces the session limit, audits the login and any eviction, and ends
/// `previous` so a browser never holds two sessions.
pub(crate) async fn open_session(
    state: &AppState,
    user: User,
    client: &Client,
    previous: Option<&Session>,
    kind: SessionKind,
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
