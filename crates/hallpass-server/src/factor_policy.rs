//! Roles whose powers need a second factor (`[factors] required_for_roles`, docs/factors.md):
//! a holder without one keeps the role's powers for `enrollment_grace` from the first time the
//! rule applied to them, then loses them until they set one up. Signing in, and setting up the
//! factor, always work.

use hallpass_core::user::User;

use crate::{operation::OpError, state::AppState};

/// Refuses a role's powers to `user` if the policy requires a factor for one of their roles,
/// they have none, and their grace is over.
pub(crate) async fn check(state: &AppState, user: &User) -> Result<(), OpError> {
    let policy = &state.config.factor_policy;
    if !policy.required_for.iter().any(|r| user.roles.contains(r)) {
        return Ok(());
    }
    if state.stores.factors.has_factor(user.id).await? {
        return Ok(());
    }
    let now = state.clock.now();
    let since = state
        .stores
        .factors
        .factor_required_since(user.id, now)
        .await?;
    if now - since <= policy.grace {
        Ok(())
    } else {
        Err(OpError::FactorRequired)
    }
}
