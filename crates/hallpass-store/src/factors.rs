//! Second factors, recovery codes, and the challenges between a login's two steps
//! (docs/factors.md). Secrets arrive sealed or hashed: this crate never sees a TOTP secret in
//! the clear, nor a recovery code or an `mfa_token`.

use async_trait::async_trait;
use hallpass_core::{
    factor::{FactorId, FactorKind, amr::Amr},
    session::{SessionKind, TokenHash},
    user::UserId,
};
use time::OffsetDateTime;

use crate::StoreError;

/// A factor being enrolled.
#[derive(Clone)]
pub struct NewFactor {
    /// Its handle.
    pub id: FactorId,
    /// Whose.
    pub user: UserId,
    /// TOTP or passkey.
    pub kind: FactorKind,
    /// The user's name for it.
    pub name: String,
    /// A TOTP factor's sealed secret.
    pub secret: Option<Vec<u8>>,
    /// A passkey's credential (the WebAuthn library's JSON).
    pub credential: Option<String>,
    /// A passkey's credential id.
    pub credential_id: Option<Vec<u8>>,
    /// When enrollment began.
    pub created_at: OffsetDateTime,
}

impl std::fmt::Debug for NewFactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewFactor")
            .field("id", &self.id)
            .field("user", &self.user)
            .field("kind", &self.kind)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A stored factor.
#[derive(Clone, PartialEq, Eq)]
pub struct Factor {
    /// Its handle.
    pub id: FactorId,
    /// Whose.
    pub user: UserId,
    /// TOTP or passkey.
    pub kind: FactorKind,
    /// The user's name for it.
    pub name: String,
    /// A TOTP factor's sealed secret.
    pub secret: Option<Vec<u8>>,
    /// A passkey's credential.
    pub credential: Option<String>,
    /// A passkey's credential id.
    pub credential_id: Option<Vec<u8>>,
    /// When enrollment began.
    pub created_at: OffsetDateTime,
    /// When the user proved it works; until then it does not count.
    pub confirmed_at: Option<OffsetDateTime>,
    /// When it last completed a sign-in.
    pub last_used_at: Option<OffsetDateTime>,
    /// A TOTP factor's last accepted time step.
    pub last_step: Option<u64>,
}

impl std::fmt::Debug for Factor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Factor")
            .field("id", &self.id)
            .field("user", &self.user)
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("confirmed_at", &self.confirmed_at)
            .field("last_used_at", &self.last_used_at)
            .finish_non_exhaustive()
    }
}

/// A second step to wait for.
#[derive(Debug, Clone)]
pub struct NewMfaChallenge {
    /// SHA-256 of the `mfa_token`.
    pub hash: TokenHash,
    /// Who passed the first step.
    pub user: UserId,
    /// The session kind it completes into.
    pub kind: SessionKind,
    /// How the first step was made.
    pub amr: Amr,
    /// When the first step passed.
    pub created_at: OffsetDateTime,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
}

/// A live challenge as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaChallenge {
    /// Who passed the first step.
    pub user: UserId,
    /// The session kind it completes into.
    pub kind: SessionKind,
    /// How the first step was made.
    pub amr: Amr,
    /// Wrong second steps so far.
    pub attempts: u32,
}

/// Factors, recovery codes and login challenges.
#[async_trait]
pub trait FactorStore: Send + Sync {
    /// Stores a factor being enrolled (not yet confirmed), replacing the user's other
    /// unconfirmed factors of the same kind (an abandoned enrollment).
    async fn add_factor(&self, factor: &NewFactor) -> Result<(), StoreError>;

    /// The user's factors, confirmed or not, oldest first.
    async fn factors(&self, user: UserId) -> Result<Vec<Factor>, StoreError>;

    /// Whether the user has a confirmed factor: what decides that a login needs a second step.
    async fn has_factor(&self, user: UserId) -> Result<bool, StoreError>;

    /// Confirms the user's unconfirmed factor `id`, in one transaction: sets `confirmed_at`
    /// and `last_used_at` to `at` and `last_step` to `step` (the code that proved it is spent),
    /// and, when `recovery_codes` is given, replaces the user's recovery codes with them.
    /// `false` (nothing changed) if there is no such unconfirmed factor.
    async fn confirm_factor(
        &self,
        user: UserId,
        id: FactorId,
        step: Option<u64>,
        recovery_codes: Option<&[TokenHash]>,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Accepts TOTP time step `step` for the confirmed factor `id` if it is later than every
    /// step accepted before (one conditional statement, so two nodes cannot both accept one
    /// code), recording `at` as its last use. `false`: a replay, or no such factor.
    async fn use_totp_step(
        &self,
        id: FactorId,
        step: u64,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Deletes the user's factor `id`; when no confirmed factor is left, the recovery codes go
    /// too. `false` if there was no such factor.
    async fn delete_factor(&self, user: UserId, id: FactorId) -> Result<bool, StoreError>;

    /// Replaces the user's recovery codes.
    async fn replace_recovery_codes(
        &self,
        user: UserId,
        codes: &[TokenHash],
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Spends the user's unused recovery code `hash`; `false` if there is none.
    async fn use_recovery_code(
        &self,
        user: UserId,
        hash: &TokenHash,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// How many of the user's recovery codes are unused.
    async fn recovery_codes_left(&self, user: UserId) -> Result<u32, StoreError>;

    /// Stores a login challenge.
    async fn create_mfa_challenge(&self, challenge: &NewMfaChallenge) -> Result<(), StoreError>;

    /// The live challenge (not expired at `now`) whose token hashes to `hash`.
    async fn mfa_challenge(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<MfaChallenge>, StoreError>;

    /// Counts a wrong second step against the challenge; at `max_attempts` it is deleted.
    /// Returns whether it is still live.
    async fn count_mfa_attempt(
        &self,
        hash: &TokenHash,
        max_attempts: u32,
    ) -> Result<bool, StoreError>;

    /// Spends the live challenge (deletes it) and returns it; `None` if it is not live, so two
    /// requests with one token cannot both complete it.
    async fn spend_mfa_challenge(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<MfaChallenge>, StoreError>;

    /// When a rule requiring a second factor first applied to the user: the time stored the
    /// first time this is asked (`now`), the same time ever after.
    async fn factor_required_since(
        &self,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<OffsetDateTime, StoreError>;

    /// Deletes challenges that expired before `before`; returns how many.
    async fn purge_mfa_challenges(&self, before: OffsetDateTime) -> Result<u64, StoreError>;
}
