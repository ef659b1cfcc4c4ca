//! Emailed tokens: what a mailed link or code proves, stored only as hashes, issued in the same
//! transaction as the mail that carries them (docs/email.md).

use async_trait::async_trait;
use hallpass_core::{
    email::EmailPurpose,
    password::PasswordHash,
    session::TokenHash,
    user::{Email, User, UserId},
};
use time::OffsetDateTime;

use crate::{NewMail, StoreError};

/// An emailed token to store (only hashes).
#[derive(Debug, Clone)]
pub struct NewEmailToken {
    /// SHA-256 of the link token.
    pub hash: TokenHash,
    /// HMAC of the short code, if the mail carries one.
    pub code_hash: Option<TokenHash>,
    /// Whose.
    pub user: UserId,
    /// What it proves.
    pub purpose: EmailPurpose,
    /// The address it was sent to (for [`EmailPurpose::ChangeEmail`], the new address).
    pub email: Email,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
}

/// A live emailed token as read back.
#[derive(Debug, Clone)]
pub struct EmailTokenRecord {
    /// Whose.
    pub user: User,
    /// What it proves.
    pub purpose: EmailPurpose,
    /// The address it was sent to.
    pub email: Email,
    /// When it was made.
    pub created_at: OffsetDateTime,
}

/// Emailed tokens, and the account changes they carry out.
#[async_trait]
pub trait EmailStore: Send + Sync {
    /// In one transaction: deletes the user's other tokens of the same purpose (a newer one voids
    /// the older), inserts `token`, and queues `mail`.
    async fn issue_email_token(
        &self,
        token: &NewEmailToken,
        mail: &NewMail,
    ) -> Result<(), StoreError>;

    /// The live token (unused, of `purpose`, not expired at `now`) whose link hashes to `hash`,
    /// with its user; reading spends nothing.
    async fn email_token(
        &self,
        hash: &TokenHash,
        purpose: EmailPurpose,
        now: OffsetDateTime,
    ) -> Result<Option<EmailTokenRecord>, StoreError>;

    /// Checks a typed code against `user`'s live token of `purpose`. A match returns the token's
    /// link hash (to spend it as if the link was followed); a mismatch counts an attempt, and
    /// after `max_attempts` wrong ones the token is deleted. One transaction.
    async fn check_email_code(
        &self,
        user: UserId,
        purpose: EmailPurpose,
        code_hash: &TokenHash,
        max_attempts: u32,
        now: OffsetDateTime,
    ) -> Result<Option<TokenHash>, StoreError>;

    /// Spends a live token of `purpose` (deleting it) and returns what it was, or `None` if it is
    /// not live: one conditional statement, so two requests with one token cannot both win.
    async fn spend_email_token(
        &self,
        hash: &TokenHash,
        purpose: EmailPurpose,
        now: OffsetDateTime,
    ) -> Result<Option<EmailTokenRecord>, StoreError>;

    /// A password reset, in one transaction: spends the live [`EmailPurpose::Reset`] token,
    /// sets the password hash, deletes the user's other reset tokens, and queues `notice`.
    /// `None` (nothing changed) if the token is not live.
    async fn reset_password(
        &self,
        hash: &TokenHash,
        password_hash: &PasswordHash,
        notice: &NewMail,
        now: OffsetDateTime,
    ) -> Result<Option<UserId>, StoreError>;

    /// Proves an address, in one transaction: spends the live token of `purpose`
    /// ([`EmailPurpose::Verify`] or [`EmailPurpose::ChangeEmail`]). For `Verify`, marks the
    /// user's address verified if it is still the one the token was sent to; for `ChangeEmail`,
    /// makes the token's address the user's (verified) and queues `notice` (to the old one).
    /// Returns the user as now stored, or `None` if the token is not live;
    /// [`StoreError::EmailTaken`] (nothing changed) if another account took the address since.
    async fn confirm_email(
        &self,
        hash: &TokenHash,
        purpose: EmailPurpose,
        notice: Option<&NewMail>,
        now: OffsetDateTime,
    ) -> Result<Option<User>, StoreError>;

    /// Deletes tokens that expired before `before`; returns how many.
    async fn purge_email_tokens(&self, before: OffsetDateTime) -> Result<u64, StoreError>;
}
