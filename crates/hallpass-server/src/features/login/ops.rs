//! Logging in with a password: one argon2 verify whatever the outcome, then a brand-new session
//! (or, with a second factor, the challenge for it).

use hallpass_core::{
    audit::AuditKind,
    device::DeviceToken,
    factor::amr::Method,
    password::{Password, Verification},
    session::{Session, SessionKind},
};

use super::second_step::SignIn;
use crate::{
    infra::rate_limit::Lockee,
    operation::{Client, OpError},
    state::AppState,
};

/// Checks the credentials and opens a session (or, for an account with a second factor, leaves
/// the challenge that completes it). Unknown user, wrong password and disabled
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
) -> Result<SignIn, OpError> {
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

    // Only now, after the password proved who is asking, may the answer say more than "wrong".
    if state.mail.settings.require_verified_email && !user.email_verified {
        state.limits.record_success(lockee).await;
        return Err(OpError::EmailUnverified);
    }
    let signed_in =
        super::second_step::first_factor_passed(state, user, Method::Pwd, client, previous, kind)
            .await?;
    // A password that leads to a second step clears nothing: the failures that count toward the
    // lockout include wrong second-step codes, which a guesser with the password must not be
    // able to wipe by logging in again (docs/factors.md).
    if let SignIn::Done(_) = signed_in {
        state.limits.record_success(lockee).await;
    }
    Ok(signed_in)
}
