//! Proving again who you are before a sensitive action (docs/factors.md, "Step-up"): the
//! current password, or an authentication of the session within [`REAUTH_WINDOW`]; and
//! re-authenticating a session (`POST /v1/reauth`, `/reauth`), which renews its `auth_time`.

use hallpass_core::password::Verification;
use time::Duration;

use crate::{
    infra::rate_limit::Lockee,
    operation::{Caller, OpError},
    state::AppState,
};

/// How recent a session's authentication must be for a sensitive action without the password.
pub(crate) const REAUTH_WINDOW: Duration = Duration::minutes(10);

/// Accepts the action if `current_password` is the caller's password, or (none given) if the
/// session authenticated within [`REAUTH_WINDOW`]. Wrong passwords count against the session's
/// own lockout, so a stolen session cannot guess freely and failed logins elsewhere do not block
/// the owner.
pub(crate) async fn confirm(
    state: &AppState,
    caller: Caller<'_>,
    current_password: &str,
) -> Result<(), OpError> {
    if current_password.is_empty() {
        let recent = state.clock.now() - caller.session.auth_time <= REAUTH_WINDOW;
        return if recent {
            Ok(())
        } else {
            Err(OpError::ReauthRequired)
        };
    }
    let lockee = Lockee::Session(caller.session.id);
    state.limits.check_lockout(lockee).await?;
    let matches = caller.user.password_hash.is_usable()
        && state
            .passwords
            .verify(current_password, caller.user.password_hash.clone())
            .await?
            != Verification::Mismatch;
    if matches {
        state.limits.record_success(lockee).await;
        Ok(())
    } else {
        state.limits.record_failure(lockee).await;
        Err(OpError::WrongCurrentPassword)
    }
}

/// Refuses the action unless the session authenticated within [`REAUTH_WINDOW`]: for actions
/// that take no password of their own (every administrator's write).
pub(crate) fn require_recent(state: &AppState, caller: Caller<'_>) -> Result<(), OpError> {
    if state.clock.now() - caller.session.auth_time <= REAUTH_WINDOW {
        Ok(())
    } else {
        Err(OpError::ReauthRequired)
    }
}

/// Renews the session's authentication with the account's password, or a code from its
/// authenticator app (an account made by social login has no password). Wrong ones count
/// against the session's own lockout.
pub(crate) async fn reauthenticate(
    state: &AppState,
    caller: Caller<'_>,
    password: Option<&str>,
    code: Option<&str>,
) -> Result<(), OpError> {
    let lockee = Lockee::Session(caller.session.id);
    state.limits.check_lockout(lockee).await?;
    let proven = match (password, code) {
        (Some(password), None) => {
            caller.user.password_hash.is_usable()
                && state
                    .passwords
                    .verify(password, caller.user.password_hash.clone())
                    .await?
                    != Verification::Mismatch
        }
        (None, Some(code)) => {
            crate::factor_codes::spend_totp_code(state, caller.user.id, code).await?
        }
        _ => false,
    };
    if !proven {
        state.limits.record_failure(lockee).await;
        return Err(OpError::WrongCurrentPassword);
    }
    state.limits.record_success(lockee).await;
    let now = state.clock.now();
    if !state
        .stores
        .sessions
        .reauthenticate(caller.session.id, now)
        .await?
    {
        return Err(OpError::Unauthenticated);
    }
    Ok(())
}
