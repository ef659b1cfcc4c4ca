//! Emailed tokens pass through (the outbox is not wrapped at all), except the two writes that
//! change a user row: a password reset and a confirmed address. Cached sessions carry their
//! user, so those drop the user's entries here and on the other nodes, as the account writes do.

use async_trait::async_trait;
use hallpass_core::{
    email::EmailPurpose,
    password::PasswordHash,
    session::TokenHash,
    user::{User, UserId},
};
use time::OffsetDateTime;

use super::{SessionCache, sync::Change};
use crate::{EmailStore, EmailTokenRecord, NewEmailToken, NewMail, StoreError};

impl SessionCache {
    /// Drops `user`'s cached sessions here and tells the other nodes to.
    async fn user_changed(&self, user: UserId, at: OffsetDateTime) {
        self.forget_user(user);
        self.tell_others(&Change {
            users: &[user],
            ..Change::at(at)
        })
        .await;
    }
}

#[async_trait]
impl EmailStore for SessionCache {
    async fn issue_email_token(
        &self,
        token: &NewEmailToken,
        mail: &NewMail,
    ) -> Result<(), StoreError> {
        self.inner.email.issue_email_token(token, mail).await
    }

    async fn email_token(
        &self,
        hash: &TokenHash,
        purpose: EmailPurpose,
        now: OffsetDateTime,
    ) -> Result<Option<EmailTokenRecord>, StoreError> {
        self.inner.email.email_token(hash, purpose, now).await
    }

    async fn check_email_code(
        &self,
        user: UserId,
        purpose: EmailPurpose,
        code_hash: &TokenHash,
        max_attempts: u32,
        now: OffsetDateTime,
    ) -> Result<Option<TokenHash>, StoreError> {
        self.store()
            .email
            .check_email_code(user, purpose, code_hash, max_attempts, now)
            .await
    }

    async fn spend_email_token(
        &self,
        hash: &TokenHash,
        purpose: EmailPurpose,
        now: OffsetDateTime,
    ) -> Result<Option<EmailTokenRecord>, StoreError> {
        self.store()
            .email
            .spend_email_token(hash, purpose, now)
            .await
    }

    async fn reset_password(
        &self,
        hash: &TokenHash,
        password_hash: &PasswordHash,
        notice: &NewMail,
        now: OffsetDateTime,
    ) -> Result<Option<UserId>, StoreError> {
        let reset = self
            .store()
            .email
            .reset_password(hash, password_hash, notice, now)
            .await?;
        if let Some(user) = reset {
            self.user_changed(user, now).await;
        }
        Ok(reset)
    }

    async fn confirm_email(
        &self,
        hash: &TokenHash,
        purpose: EmailPurpose,
        notice: Option<&NewMail>,
        now: OffsetDateTime,
    ) -> Result<Option<User>, StoreError> {
        let confirmed = self
            .store()
            .email
            .confirm_email(hash, purpose, notice, now)
            .await?;
        if let Some(user) = &confirmed {
            self.user_changed(user.id, now).await;
        }
        Ok(confirmed)
    }

    async fn purge_email_tokens(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        self.inner.email.purge_email_tokens(before).await
    }
}
