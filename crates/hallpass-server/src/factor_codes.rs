//! The codes of a user's authenticator apps, for everything that checks one (the second step
//! of a login, re-authentication, confirming an enrollment): opening a sealed secret, and
//! spending a code at most once (docs/factors.md).

use hallpass_core::{
    factor::{FactorKind, totp::TotpSecret},
    user::UserId,
};
use hallpass_store::Factor;

use crate::{operation::OpError, state::AppState};

/// The secret of a TOTP factor; `None` for any other factor. A secret that does not open (a
/// wrong server secret) is an internal error, logged by the error layer.
pub(crate) fn open_totp(state: &AppState, factor: &Factor) -> Result<Option<TotpSecret>, OpError> {
    let (FactorKind::Totp, Some(sealed)) = (factor.kind, factor.secret.as_deref()) else {
        return Ok(None);
    };
    TotpSecret::open(sealed, &state.keys.totp_seal, factor.id)
        .map(Some)
        .map_err(|e| OpError::Internal(anyhow::anyhow!("factor {}: {e}", factor.id)))
}

/// Whether `code` is the current code of one of the user's confirmed authenticator apps,
/// spending its time step: a replay, or an older code after a newer one, is a wrong code.
pub(crate) async fn spend_totp_code(
    state: &AppState,
    user: UserId,
    code: &str,
) -> Result<bool, OpError> {
    let now = state.clock.now();
    for factor in state.stores.factors.factors(user).await? {
        if factor.confirmed_at.is_none() {
            continue;
        }
        let Some(secret) = open_totp(state, &factor)? else {
            continue;
        };
        if let Some(step) = secret.check(code, now) {
            return Ok(state
                .stores
                .factors
                .use_totp_step(factor.id, step, now)
                .await?);
        }
    }
    Ok(false)
}
