//! Mail and emailed tokens pass through, uncounted in `store_calls` (they are no request's
//! session or user lookup: the outbox worker polls them), except the two writes that change a user row: a
//! password reset and a confirmed address. Cached sessions carry their user, so those drop the
//! user's entries here and on the other nodes, as the account writes do.

use async_trait::async_trait;
use hallpass_core::{
    email::EmailPurpose,
    password::PasswordHash,
    session::TokenHash,
    user::{Email, User, UserId},
};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{SessionCache, sync::Change};
use crate::{
    ClaimedMail, EmailStore, EmailTokenRecord, FailedMail, NewEmailToken, NewMail, OutboxCounts,
    StoreError,
};

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

    async fn queue_mail(&self, mail: &NewMail) -> Result<(), StoreError> {
        self.inner.email.queue_mail(mail).await
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

    async fn claim_mail(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<ClaimedMail>, StoreError> {
        self.inner.email.claim_mail(now, lease_until, limit).await
    }

    async fn mail_sent(&self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError> {
        self.inner.email.mail_sent(id, at).await
    }

    async fn mail_retry(
        &self,
        id: Uuid,
        next_attempt_at: OffsetDateTime,
        error: &str,
    ) -> Result<(), StoreError> {
        self.store()
            .email
            .mail_retry(id, next_attempt_at, error)
            .await
    }

    async fn mail_failed(
        &self,
        id: Uuid,
        at: OffsetDateTime,
        error: &str,
    ) -> Result<(), StoreError> {
        self.inner.email.mail_failed(id, at, error).await
    }

    async fn expire_mail(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        self.inner.email.expire_mail(now).await
    }

    async fn mails_to_since(&self, to: &Email, since: OffsetDateTime) -> Result<u64, StoreError> {
        self.inner.email.mails_to_since(to, since).await
    }

    async fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        self.inner.email.outbox_counts().await
    }

    async fn failed_mails(&self, limit: u32) -> Result<Vec<FailedMail>, StoreError> {
        self.inner.email.failed_mails(limit).await
    }

    async fn purge_email(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        self.inner.email.purge_email(before).await
    }
}
