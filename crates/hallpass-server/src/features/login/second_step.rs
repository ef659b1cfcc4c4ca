//! The two steps of a login when the account has a second factor (docs/factors.md). A first
//! factor (a password, an emailed code, a provider) that proves who is asking opens a session
//! only for accounts without one; otherwise it leaves a challenge, single-use and short-lived,
//! that an authenticator code or a recovery code completes. Nothing about the session exists
//! before that: no row, no cookie, no token.

use hallpass_core::{
    audit::AuditKind,
    device::DeviceToken,
    factor::{
        amr::{Amr, Method},
        challenge::{MFA_CHALLENGE_TTL, MFA_MAX_ATTEMPTS, MfaToken},
        recovery::RecoveryCode,
    },
    session::{Session, SessionKind},
    user::User,
};
use hallpass_store::NewMfaChallenge;

use super::session::{LoginOutcome, open_session};
use crate::{
    infra::rate_limit::Lockee,
    operation::{Client, OpError},
    state::AppState,
};

/// What a first factor that proved who is asking leads to.
#[derive(Debug)]
pub(crate) enum SignIn {
    /// The account has no second factor: the session is open. (Boxed: an outcome is large and
    /// the other answer small.)
    Done(Box<LoginOutcome>),
    /// The account has one: nothing is open yet.
    SecondStep(SecondStep),
}

/// The answer that asks for the second step.
#[derive(Debug)]
pub(crate) struct SecondStep {
    /// Completes the login (`POST /v1/login/mfa`, the page's form, the token grant).
    pub token: MfaToken,
    /// What may complete it: `totp`, `recovery_code`.
    pub methods: Vec<&'static str>,
}

/// The second step itself.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Proof<'a> {
    /// A code from the authenticator app.
    Totp(&'a str),
    /// One of the recovery codes.
    RecoveryCode(&'a str),
}

/// After `first` proved who `user` is: opens a session of `kind`, or, when the account has a
/// confirmed second factor, stores a challenge and opens nothing.
pub(crate) async fn first_factor_passed(
    state: &AppState,
    user: User,
    first: Method,
    client: &Client,
    previous: Option<&Session>,
    kind: SessionKind,
) -> Result<SignIn, OpError> {
    if !state.stores.factors.has_factor(user.id).await? {
        let outcome = open_session(state, user, client, previous, kind, Amr::one(first)).await?;
        return Ok(SignIn::Done(Box::new(outcome)));
    }
    let token = MfaToken::from_random(crate::infra::random::random_bytes()?);
    let now = state.clock.now();
    state
        .stores
        .factors
        .create_mfa_challenge(&NewMfaChallenge {
            hash: token.hash(),
            user: user.id,
            kind,
            amr: Amr::one(first),
            created_at: now,
            expires_at: now + MFA_CHALLENGE_TTL,
        })
        .await?;
    tracing::info!(user = %user.id, ip = %client.ip, "first factor passed; second step due");
    Ok(SignIn::SecondStep(SecondStep {
        token,
        methods: vec!["totp", "recovery_code"],
    }))
}

/// Completes a challenge with `proof` into a session of `kind` (a challenge left by the token
/// endpoint completes only there, one left by a cookie login only into a cookie). A wrong code
/// counts against the challenge (void after [`MFA_MAX_ATTEMPTS`]) and toward the account's
/// lockout, as a wrong password does; a used, expired or unknown challenge is
/// [`OpError::InvalidChallenge`]. Nothing changes unless it succeeds.
pub(crate) async fn complete(
    state: &AppState,
    token: &str,
    proof: Proof<'_>,
    client: &Client,
    previous: Option<&Session>,
    kind: SessionKind,
    device: Option<&DeviceToken>,
) -> Result<LoginOutcome, OpError> {
    state.limits.check_ip(client.ip).await?;
    let token = MfaToken::parse(token).ok_or(OpError::InvalidChallenge)?;
    let hash = token.hash();
    let now = state.clock.now();
    let challenge = state
        .stores
        .factors
        .mfa_challenge(&hash, now)
        .await?
        .filter(|c| c.kind == kind)
        .ok_or(OpError::InvalidChallenge)?;
    let user = state
        .stores
        .users
        .user_by_id(challenge.user)
        .await?
        .filter(|u| !u.disabled)
        .ok_or(OpError::InvalidChallenge)?;
    // Judged as the first step was: a browser with the account's device cookie by its own
    // count, so someone who has the password cannot lock the owner out of the second step.
    let account = user.username.to_ascii_lowercase();
    let lockee = match device {
        Some(device) if device.user == user.id => Lockee::Device(device.device),
        _ => Lockee::Account(&account),
    };
    state.limits.check_lockout(lockee).await?;

    if !proven(state, &user, proof).await? {
        state.limits.record_failure(lockee).await;
        let live = state
            .stores
            .factors
            .count_mfa_attempt(&hash, MFA_MAX_ATTEMPTS)
            .await?;
        let mut event = crate::audit::event(state, AuditKind::LoginFailed, client);
        event.subject = Some(user.id);
        event.detail = Some(match proof {
            Proof::Totp(_) => "wrong authenticator code".to_owned(),
            Proof::RecoveryCode(_) => "wrong recovery code".to_owned(),
        });
        tracing::info!(user = %user.id, ip = %client.ip, live, "second step failed");
        crate::audit::record(state, event).await?;
        return Err(OpError::InvalidCredentials);
    }
    // Spent before the session opens: of two requests with one challenge, one wins.
    let challenge = state
        .stores
        .factors
        .spend_mfa_challenge(&hash, now)
        .await?
        .ok_or(OpError::InvalidChallenge)?;
    state.limits.record_success(lockee).await;
    let amr = challenge.amr.with(Method::Otp);
    if let Proof::RecoveryCode(_) = proof {
        let mut event = crate::audit::event(state, AuditKind::RecoveryCodeUsed, client);
        event.actor = Some(user.id);
        event.subject = Some(user.id);
        crate::audit::record(state, event).await?;
    }
    open_session(state, user, client, previous, kind, amr).await
}

/// Whether `proof` is good for `user`, spending it if so: a TOTP code matches a confirmed
/// factor at a time step not accepted before, or a recovery code is one of the unused ones.
async fn proven(state: &AppState, user: &User, proof: Proof<'_>) -> Result<bool, OpError> {
    let now = state.clock.now();
    match proof {
        Proof::Totp(code) => crate::factor_codes::spend_totp_code(state, user.id, code).await,
        Proof::RecoveryCode(code) => match RecoveryCode::parse(code) {
            None => Ok(false),
            Some(code) => Ok(state
                .stores
                .factors
                .use_recovery_code(user.id, &code.hash(), now)
                .await?),
        },
    }
}
