//! The `[factors]` table: which roles must have a second factor (docs/factors.md, "Required for
//! roles").

use serde::{Deserialize, Serialize};

use super::ConfigDuration;

/// The second-factor policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FactorSettings {
    /// Roles whose powers need a confirmed second factor, e.g. `["admin"]`. Empty: none.
    pub required_for_roles: Vec<String>,
    /// How long a holder of such a role may go on without one, from the first time the rule
    /// applied to them.
    pub enrollment_grace: ConfigDuration,
}

impl Default for FactorSettings {
    fn default() -> Self {
        Self {
            required_for_roles: Vec::new(),
            enrollment_grace: ConfigDuration::days(7),
        }
    }
}

/// Why the table does not make sense, if it does not.
pub(super) fn check(factors: &FactorSettings) -> Result<(), (&'static str, String)> {
    hallpass_core::user::parse_roles(factors.required_for_roles.iter().map(String::as_str))
        .map_err(|e| ("factors.required_for_roles", e.to_string()))?;
    Ok(())
}
