//! The outbox worker: claims due mail from the store, delivers it, and records the outcome.
//!
//! Delivery is at least once (docs/email.md, "Delivery"): a claim is a lease, so a node that dies
//! between the SMTP server's "250 OK" and recording it leaves the mail to be claimed and sent
//! again once the lease lapses. Nothing else sends a mail twice.

use std::{sync::Arc, time::Duration};

use futures_util::StreamExt;
use hallpass_core::{
    audit::{AuditEvent, AuditKind},
    clock::Clock,
};
use hallpass_store::{ClaimedMail, OutboxStore, StoreError};
use tokio::sync::Notify;

use super::{DeliveryError, Mailer};
use crate::telemetry::Metrics;

/// Mails claimed at once by one node.
const BATCH: u32 = 32;
/// Mails one node delivers at the same time: SMTP is latency-bound (a relay answers in tens of
/// milliseconds), and 16 conversations drain an outbox 2.5 times faster than 4 did
/// (docs/benchmarks.md, "Email").
const CONCURRENT: usize = 16;
/// The first retry waits this long; each further one twice as long as the last.
const FIRST_RETRY: time::Duration = time::Duration::seconds(30);
/// No retry waits longer than this.
const LONGEST_RETRY: time::Duration = time::Duration::hours(1);

/// How the worker delivers.
#[derive(Debug, Clone)]
pub struct DeliveryPolicy {
    /// Attempts before a mail is given up on.
    pub max_attempts: u32,
    /// How long a claim holds: longer than one SMTP conversation can take.
    pub lease: time::Duration,
    /// How often to look for mail queued elsewhere or due for a retry.
    pub poll_interval: Duration,
}

impl DeliveryPolicy {
    /// The policy for an SMTP timeout of `smtp_timeout`: a claim outlives four conversations.
    pub fn new(max_attempts: u32, smtp_timeout: Duration, poll_interval: Duration) -> Self {
        let lease = time::Duration::try_from(smtp_timeout.saturating_mul(4))
            .unwrap_or(time::Duration::minutes(2))
            .max(time::Duration::seconds(30));
        Self {
            max_attempts,
            lease,
            poll_interval,
        }
    }
}

/// What the worker needs; the state's mail part.
#[derive(Clone)]
pub struct Outbox {
    /// Where mail is read from and the outcome written.
    pub store: Arc<dyn OutboxStore>,
    /// The audit log (a mail given up on is recorded).
    pub audit: Arc<dyn hallpass_store::AuditStore>,
    /// Delivers.
    pub mailer: Mailer,
    /// Where "now" comes from (retries are scheduled on it).
    pub clock: Arc<dyn Clock>,
    /// Counts outcomes.
    pub metrics: Metrics,
    /// Rung when this node queues a mail, so it leaves at once.
    pub wake: Arc<Notify>,
    /// Attempts, lease, polling.
    pub policy: DeliveryPolicy,
}

/// The wait before the retry that follows attempt `attempts` (1-based).
pub(crate) fn backoff(attempts: u32) -> time::Duration {
    let doublings = attempts.saturating_sub(1).min(16);
    (FIRST_RETRY * 2_i32.pow(doublings)).min(LONGEST_RETRY)
}

impl Outbox {
    /// Delivers until stopped: whenever woken, and every poll interval.
    pub async fn run(self) {
        loop {
            match self.drain().await {
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(error = ?error, "the outbox could not be read; retrying")
                }
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.policy.poll_interval) => {}
            }
        }
    }

    /// Delivers every mail due now, batch after batch; how many were attempted.
    pub async fn drain(&self) -> Result<usize, StoreError> {
        let mut attempted = 0;
        let now = self.clock.now();
        let expired = self.store.expire_mail(now).await?;
        if expired > 0 {
            tracing::warn!(
                expired,
                "gave up on mails whose links expired before they could be delivered"
            );
        }
        loop {
            let now = self.clock.now();
            let batch = self
                .store
                .claim_mail(now, now + self.policy.lease, BATCH)
                .await?;
            if batch.is_empty() {
                return Ok(attempted);
            }
            attempted += batch.len();
            futures_util::stream::iter(batch)
                .for_each_concurrent(CONCURRENT, |claimed| self.deliver(claimed))
                .await;
        }
    }

    async fn deliver(&self, claimed: ClaimedMail) {
        let id = claimed.mail.id;
        let outcome = self.mailer.deliver(&claimed.mail).await;
        let now = self.clock.now();
        let recorded = match outcome {
            Ok(()) => {
                self.metrics.mail_delivery("sent");
                self.store.mail_sent(id, now).await
            }
            Err(DeliveryError::Transient(error)) if claimed.attempts < self.policy.max_attempts => {
                self.metrics.mail_delivery("retry");
                let wait = backoff(claimed.attempts);
                tracing::info!(mail = %id, attempts = claimed.attempts, error = %error, retry_in = %wait, "mail not delivered; will retry");
                self.store.mail_retry(id, now + wait, &error).await
            }
            Err(error) => {
                self.metrics.mail_delivery("failed");
                let error = match error {
                    DeliveryError::Transient(e) => {
                        format!("gave up after {} attempts: {e}", claimed.attempts)
                    }
                    DeliveryError::Permanent(e) => e,
                };
                tracing::warn!(mail = %id, to = %claimed.mail.to.as_str(), error = %error, "mail given up on");
                let mut event = AuditEvent::new(AuditKind::MailFailed, now);
                event.detail = Some(format!("{id} to {}: {error}", claimed.mail.to.as_str()));
                if let Err(audit_error) = self.audit.append(&event).await {
                    tracing::warn!(error = ?audit_error, "could not record a failed mail in the audit log");
                }
                self.store.mail_failed(id, now, &error).await
            }
        };
        if let Err(error) = recorded {
            // The claim lapses and the mail is tried again: at least once, as documented.
            tracing::warn!(mail = %id, error = ?error, "could not record a delivery outcome");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_to_an_hour() {
        assert_eq!(backoff(1), time::Duration::seconds(30));
        assert_eq!(backoff(2), time::Duration::minutes(1));
        assert_eq!(backoff(4), time::Duration::minutes(4));
        assert_eq!(backoff(9), time::Duration::hours(1));
        assert_eq!(backoff(u32::MAX), time::Duration::hours(1));
    }
}
