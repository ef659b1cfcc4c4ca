//! The mail outbox, written once for both backends: queueing, claiming, the outcome of each
//! delivery, and the counts the metrics and the admin console show.

/// The statement that queues `$mail` (a `&NewMail`), due at once; run it on a transaction to
/// queue a mail with what it carries. Both stores and both backends use this one statement.
macro_rules! insert_mail {
    ($mail:expr) => {{
        let mail: &crate::NewMail = $mail;
        sqlx::query(
            "INSERT INTO outbox (id, to_addr, subject, text_body, html_body, created_at, expires_at, next_attempt_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $6)",
        )
        .bind(mail.id)
        .bind(mail.to.as_str())
        .bind(mail.subject.as_str())
        .bind(mail.text.as_str())
        .bind(mail.html.as_str())
        .bind(hallpass_core::clock::to_micros(mail.created_at))
        .bind(mail.expires_at.map(hallpass_core::clock::to_micros))
    }};
}
pub(crate) use insert_mail;

/// Implements [`crate::OutboxStore`] for `$store` in the dialect `crate::sql::dialect::$dialect`.
macro_rules! outbox_store {
    ($store:ident, $dialect:ident) => {
        const _: () = {
            use async_trait::async_trait;
            use hallpass_core::{
                clock::to_micros,
                email::email_key,
                user::Email,
            };
            use time::OffsetDateTime;
            use uuid::Uuid;

            use crate::{
                ClaimedMail, FailedMail, NewMail, OutboxCounts, OutboxStore, StoreError,
                sql::dialect::$dialect as dialect,
                sql::outbox::insert_mail,
                sql::rows::{self, failed_mail_columns, returning_mail_columns},
            };

            #[async_trait]
            impl OutboxStore for $store {
                async fn queue_mail(&self, mail: &NewMail) -> Result<(), StoreError> {
                    insert_mail!(mail).execute(&self.writer).await?;
                    Ok(())
                }
                async fn claim_mail(
                    &self,
                    now: OffsetDateTime,
                    lease_until: OffsetDateTime,
                    limit: u32,
                ) -> Result<Vec<ClaimedMail>, StoreError> {
                    // One statement that picks and claims, so no claimer acts on what it read
                    // before another claimed it (dialect::skip_locked!).
                    let sql = concat!(
                        "UPDATE outbox SET claimed_until = $2, attempts = attempts + 1
                         WHERE id IN (
                             SELECT id FROM outbox
                             WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1
                               AND (expires_at IS NULL OR expires_at > $1)
                               AND (claimed_until IS NULL OR claimed_until <= $1)
                             ORDER BY next_attempt_at, id LIMIT $3",
                        dialect::skip_locked!(),
                        ")",
                        returning_mail_columns!()
                    );
                    let rows = sqlx::query(sql)
                        .bind(to_micros(now))
                        .bind(to_micros(lease_until))
                        .bind(i64::from(limit))
                        .fetch_all(&self.writer)
                        .await?;
                    let mut claimed = rows
                        .iter()
                        .map(rows::claimed_mail)
                        .collect::<Result<Vec<_>, _>>()?;
                    // RETURNING keeps no order of its own: oldest first, for a stable one.
                    claimed.sort_by_key(|c| (c.mail.created_at, c.mail.id));
                    Ok(claimed)
                }
                async fn mail_sent(&self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError> {
                    // Authoritative even if the mail was given up on meanwhile (it expired
                    // while a worker was delivering it): it did go out.
                    sqlx::query(
                        "UPDATE outbox SET sent_at = $2, failed_at = NULL, claimed_until = NULL,
                                           text_body = '', html_body = ''
                         WHERE id = $1 AND sent_at IS NULL",
                    )
                    .bind(id)
                    .bind(to_micros(at))
                    .execute(&self.writer)
                    .await?;
                    Ok(())
                }
                async fn mail_retry(
                    &self,
                    id: Uuid,
                    next_attempt_at: OffsetDateTime,
                    error: &str,
                ) -> Result<(), StoreError> {
                    sqlx::query(
                        "UPDATE outbox SET next_attempt_at = $2, claimed_until = NULL, last_error = $3
                         WHERE id = $1 AND sent_at IS NULL AND failed_at IS NULL",
                    )
                    .bind(id)
                    .bind(to_micros(next_attempt_at))
                    .bind(error)
                    .execute(&self.writer)
                    .await?;
                    Ok(())
                }
                async fn mail_failed(
                    &self,
                    id: Uuid,
                    at: OffsetDateTime,
                    error: &str,
                ) -> Result<(), StoreError> {
                    sqlx::query(
                        "UPDATE outbox SET failed_at = $2, last_error = $3, claimed_until = NULL,
                                           text_body = '', html_body = ''
                         WHERE id = $1 AND sent_at IS NULL AND failed_at IS NULL",
                    )
                    .bind(id)
                    .bind(to_micros(at))
                    .bind(error)
                    .execute(&self.writer)
                    .await?;
                    Ok(())
                }
                async fn expire_mail(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
                    // `<=`: a mail is no longer claimable once `expires_at` is reached.
                    let done = sqlx::query(
                        "UPDATE outbox SET failed_at = $1, last_error = 'expired', claimed_until = NULL,
                                           text_body = '', html_body = ''
                         WHERE sent_at IS NULL AND failed_at IS NULL AND expires_at <= $1",
                    )
                    .bind(to_micros(now))
                    .execute(&self.writer)
                    .await?;
                    Ok(done.rows_affected())
                }
                async fn mails_to_since(
                    &self,
                    to: &Email,
                    since: OffsetDateTime,
                ) -> Result<u64, StoreError> {
                    let sql = concat!(
                        "SELECT count(*) FROM outbox WHERE ",
                        dialect::ascii_lower!("to_addr"),
                        " = $1 AND created_at >= $2"
                    );
                    let (n,): (i64,) = sqlx::query_as(sql)
                        .bind(email_key(to))
                        .bind(to_micros(since))
                        .fetch_one(&self.writer)
                        .await?;
                    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative count {n}")))
                }
                async fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
                    // count(expression) counts the rows where it is not NULL; the result is a
                    // 64-bit integer on both backends.
                    let (pending, sent, failed): (i64, i64, i64) = sqlx::query_as(
                        "SELECT count(CASE WHEN sent_at IS NULL AND failed_at IS NULL THEN 1 END),
                                count(sent_at),
                                count(CASE WHEN sent_at IS NULL AND failed_at IS NOT NULL THEN 1 END)
                         FROM outbox",
                    )
                    .fetch_one(&self.pool)
                    .await?;
                    let count = |n: i64| {
                        u64::try_from(n)
                            .map_err(|_| StoreError::Corrupt(format!("negative count {n}")))
                    };
                    Ok(OutboxCounts {
                        pending: count(pending)?,
                        sent: count(sent)?,
                        failed: count(failed)?,
                    })
                }
                async fn failed_mails(&self, limit: u32) -> Result<Vec<FailedMail>, StoreError> {
                    let sql = concat!(
                        "SELECT ",
                        failed_mail_columns!(),
                        " FROM outbox WHERE failed_at IS NOT NULL AND sent_at IS NULL
                         ORDER BY failed_at DESC, id DESC LIMIT $1"
                    );
                    let rows = sqlx::query(sql)
                        .bind(i64::from(limit))
                        .fetch_all(&self.pool)
                        .await?;
                    rows.iter().map(rows::failed_mail).collect()
                }
                async fn purge_mail(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
                    let mail = sqlx::query("DELETE FROM outbox WHERE sent_at < $1 OR failed_at < $1")
                        .bind(to_micros(before))
                        .execute(&self.writer)
                        .await?;
                    Ok(mail.rows_affected())
                }
            }
        };
    };
}
pub(crate) use outbox_store;
