//! Proving again who you are before a sensitive action (docs/factors.md, "Step-up"): the
//! current password, or an authentication of the session within [`REAUTH_WINDOW`].

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
