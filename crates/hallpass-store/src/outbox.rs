//! The mail outbox: what the server promises to send is written in the same transaction as what
//! it carries, then delivered by a worker on any node that claims rows (docs/email.md).

use async_trait::async_trait;
use hallpass_core::user::Email;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::StoreError;

/// A mail to queue. The bodies may carry a link with a token: they are blanked once the mail is
/// sent or given up on, so the outbox does not keep live secrets longer than delivery needs.
#[derive(Clone, PartialEq, Eq)]
pub struct NewMail {
    /// Also the `Message-ID`'s local part, so a redelivered mail keeps its id.
    pub id: Uuid,
    /// The recipient.
    pub to: Email,
    /// The subject line.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
    /// When it was queued.
    pub created_at: OffsetDateTime,
    /// After this it is not worth sending (the token it carries has expired); `None`: always.
    pub expires_at: Option<OffsetDateTime>,
}

impl std::fmt::Debug for NewMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewMail")
            .field("id", &self.id)
            .field("to", &self.to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// A mail a worker claimed for delivery.
#[derive(Clone, PartialEq, Eq)]
pub struct ClaimedMail {
    /// The mail as queued.
    pub mail: NewMail,
    /// Delivery attempts so far, this one included.
    pub attempts: u32,
}

impl std::fmt::Debug for ClaimedMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimedMail")
            .field("mail", &self.mail)
            .field("attempts", &self.attempts)
            .finish()
    }
}

/// A mail given up on, for the admin console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedMail {
    /// The mail's id.
    pub id: Uuid,
    /// The recipient.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// Attempts made.
    pub attempts: u32,
    /// When it was given up on.
    pub failed_at: OffsetDateTime,
    /// The last error (the SMTP server's reply, or "expired").
    pub error: String,
}

/// How many mails are in each state (metrics, the admin console).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    /// Queued, not yet sent nor given up on.
    pub pending: u64,
    /// Delivered to the SMTP server.
    pub sent: u64,
    /// Given up on (a permanent SMTP failure, too many attempts, or expired).
    pub failed: u64,
}

/// The outbox: queued mail, claimed and delivered by workers.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Queues a mail on its own (a notice that carries no token).
    async fn queue_mail(&self, mail: &NewMail) -> Result<(), StoreError>;

    /// Claims up to `limit` mails due at `now` (not sent, not given up on, `next_attempt_at`
    /// passed, not expired, and unclaimed or with a lapsed claim) until `lease_until`, counting an
    /// attempt on each. Concurrent claimers on any node never get the same row while a claim
    /// holds (PostgreSQL: `FOR UPDATE SKIP LOCKED`). A node that dies holding a claim leaves its
    /// mails to be claimed again once the lease lapses: delivery is at least once.
    async fn claim_mail(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<ClaimedMail>, StoreError>;

    /// Records a delivery: the mail is sent and its bodies blanked.
    async fn mail_sent(&self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Releases a claim after a transient failure: tried again from `next_attempt_at`.
    async fn mail_retry(
        &self,
        id: Uuid,
        next_attempt_at: OffsetDateTime,
        error: &str,
    ) -> Result<(), StoreError>;

    /// Gives up on a mail (permanent failure): recorded with `error`, bodies blanked.
    async fn mail_failed(
        &self,
        id: Uuid,
        at: OffsetDateTime,
        error: &str,
    ) -> Result<(), StoreError>;

    /// Gives up on every unsent mail whose `expires_at` passed before `now`, with the error
    /// `"expired"`; returns how many.
    async fn expire_mail(&self, now: OffsetDateTime) -> Result<u64, StoreError>;

    /// How many mails were queued to `to` (under
    /// [`email_key`](hallpass_core::email::email_key)'s fold) at or after `since`, whatever
    /// became of them: the per-address budget, counted over every node.
    async fn mails_to_since(&self, to: &Email, since: OffsetDateTime) -> Result<u64, StoreError>;

    /// How many mails are in each state.
    async fn outbox_counts(&self) -> Result<OutboxCounts, StoreError>;

    /// Mails given up on, newest first.
    async fn failed_mails(&self, limit: u32) -> Result<Vec<FailedMail>, StoreError>;

    /// Deletes mails sent or given up on before `before`; returns how many. Unsent mail stays,
    /// whatever its age: [`expire_mail`](Self::expire_mail) gives up on it first.
    async fn purge_mail(&self, before: OffsetDateTime) -> Result<u64, StoreError>;
}
