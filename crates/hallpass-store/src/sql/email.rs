//! Emailed tokens, written once for both backends. The mail they travel in is queued with
//! `sql/outbox.rs`'s [`insert_mail!`](crate::sql::outbox::insert_mail), in the same transaction.
//!
//! Locks, where PostgreSQL takes them, follow one order: the user's row before their tokens'
//! (as deleting a user does, through the cascade), so two of these transactions cannot each
//! hold what the other waits for.

/// Implements [`crate::EmailStore`] for `$store` in the dialect `crate::sql::dialect::$dialect`.
macro_rules! email_store {
    ($store:ident, $dialect:ident) => {
        const _: () = {
            use async_trait::async_trait;
            use hallpass_core::{
                clock::{from_micros, to_micros},
                email::{EmailPurpose, email_key},
                password::PasswordHash,
                session::TokenHash,
                user::{Email, User, UserId},
            };
            use sqlx::Transaction;
            use time::OffsetDateTime;
            use uuid::Uuid;

            use crate::{
                EmailStore, EmailTokenRecord, NewEmailToken, NewMail, StoreError,
                sql::dialect::{$dialect as dialect, RowLock},
                sql::outbox::insert_mail,
                sql::rows::{self, email_token_columns, user_columns},
            };

            /// Locks the user whose token hashes to `hash`, if there is such a token: before
            /// the token is spent and the user changed, in the order every writer locks them.
            async fn lock_token_user(
                tx: &mut Transaction<'_, dialect::Db>,
                hash: &TokenHash,
            ) -> Result<Option<Uuid>, StoreError> {
                let user: Option<Uuid> =
                    sqlx::query_scalar("SELECT user_id FROM email_tokens WHERE token_hash = $1")
                        .bind(&hash.0[..])
                        .fetch_optional(&mut **tx)
                        .await?;
                if let Some(user) = user {
                    dialect::lock_user(tx, user, RowLock::NoKeyUpdate).await?;
                }
                Ok(user)
            }

            /// Spends (deletes) the live token of `purpose` that hashes to `hash`, returning
            /// whose it was, the address it was sent to and when it was made. One conditional
            /// statement: of two transactions spending one token, only one gets the row back.
            async fn spend_in(
                tx: &mut Transaction<'_, dialect::Db>,
                hash: &TokenHash,
                purpose: EmailPurpose,
                now: OffsetDateTime,
            ) -> Result<Option<(UserId, Email, OffsetDateTime)>, StoreError> {
                let row: Option<(Uuid, String, i64)> = sqlx::query_as(
                    "DELETE FROM email_tokens WHERE token_hash = $1 AND purpose = $2 AND expires_at > $3
                     RETURNING user_id, email, created_at",
                )
                .bind(&hash.0[..])
                .bind(purpose.as_str())
                .bind(to_micros(now))
                .fetch_optional(&mut **tx)
                .await?;
                row.map(|(user, email, created_at)| {
                    let email =
                        Email::parse(&email).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    Ok((UserId(user), email, from_micros(created_at)))
                })
                .transpose()
            }

            /// The user as `tx` sees them now. The token just spent referenced them, so they
            /// exist.
            async fn user_in(
                tx: &mut Transaction<'_, dialect::Db>,
                id: UserId,
            ) -> Result<User, StoreError> {
                let sql = concat!("SELECT ", user_columns!(), " FROM users u WHERE u.id = $1");
                let row = sqlx::query(sql)
                    .bind(id.0)
                    .fetch_optional(&mut **tx)
                    .await?;
                row.as_ref()
                    .map(rows::user)
                    .transpose()?
                    .ok_or_else(|| StoreError::Corrupt("an email token's user vanished".to_owned()))
            }

            #[async_trait]
            impl EmailStore for $store {
                async fn issue_email_token(
                    &self,
                    token: &NewEmailToken,
                    mail: &NewMail,
                ) -> Result<(), StoreError> {
                    let mut tx = dialect::begin_write(&self.writer).await?;
                    // Two issues for one user at once would each delete before the other
                    // inserted, leaving two live tokens: the user's row serialises them.
                    dialect::lock_user(&mut tx, token.user.0, RowLock::NoKeyUpdate).await?;
                    sqlx::query("DELETE FROM email_tokens WHERE user_id = $1 AND purpose = $2")
                        .bind(token.user.0)
                        .bind(token.purpose.as_str())
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(
                        "INSERT INTO email_tokens (token_hash, code_hash, user_id, purpose, email, created_at, expires_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(&token.hash.0[..])
                    .bind(token.code_hash.as_ref().map(|h| h.0.to_vec()))
                    .bind(token.user.0)
                    .bind(token.purpose.as_str())
                    .bind(token.email.as_str())
                    .bind(to_micros(token.created_at))
                    .bind(to_micros(token.expires_at))
                    .execute(&mut *tx)
                    .await?;
                    insert_mail!(mail).execute(&mut *tx).await?;
                    tx.commit().await?;
                    Ok(())
                }
                async fn email_token(
                    &self,
                    hash: &TokenHash,
                    purpose: EmailPurpose,
                    now: OffsetDateTime,
                ) -> Result<Option<EmailTokenRecord>, StoreError> {
                    let sql = concat!(
                        "SELECT ",
                        email_token_columns!(),
                        ", ",
                        user_columns!(),
                        " FROM email_tokens t JOIN users u ON u.id = t.user_id
                         WHERE t.token_hash = $1 AND t.purpose = $2 AND t.expires_at > $3"
                    );
                    let row = sqlx::query(sql)
                        .bind(&hash.0[..])
                        .bind(purpose.as_str())
                        .bind(to_micros(now))
                        .fetch_optional(&self.pool)
                        .await?;
                    row.as_ref().map(rows::email_token).transpose()
                }
                async fn check_email_code(
                    &self,
                    user: UserId,
                    purpose: EmailPurpose,
                    code_hash: &TokenHash,
                    max_attempts: u32,
                    now: OffsetDateTime,
                ) -> Result<Option<TokenHash>, StoreError> {
                    // The token's row is locked while its count is read and written, so
                    // concurrent guesses are each counted and none gets past the limit.
                    let mut tx = dialect::begin_write(&self.writer).await?;
                    let sql = concat!(
                        "SELECT token_hash, code_hash, code_attempts FROM email_tokens
                         WHERE user_id = $1 AND purpose = $2 AND expires_at > $3 AND code_hash IS NOT NULL
                         ORDER BY created_at DESC LIMIT 1",
                        dialect::for_update!()
                    );
                    let row: Option<(Vec<u8>, Vec<u8>, i64)> = sqlx::query_as(sql)
                        .bind(user.0)
                        .bind(purpose.as_str())
                        .bind(to_micros(now))
                        .fetch_optional(&mut *tx)
                        .await?;
                    let Some((token_hash, stored_code, attempts)) = row else {
                        return Ok(None);
                    };
                    let token_hash = rows::token_hash(&token_hash)?;
                    // A count at the limit already (the limit was lowered since) admits no more.
                    let exhausted = attempts >= i64::from(max_attempts);
                    // TokenHash compares in constant time: the timing says nothing of the code.
                    if !exhausted && rows::token_hash(&stored_code)? == *code_hash {
                        tx.commit().await?;
                        return Ok(Some(token_hash));
                    }
                    let sql = if exhausted || attempts + 1 >= i64::from(max_attempts) {
                        "DELETE FROM email_tokens WHERE token_hash = $1"
                    } else {
                        "UPDATE email_tokens SET code_attempts = code_attempts + 1 WHERE token_hash = $1"
                    };
                    sqlx::query(sql)
                        .bind(&token_hash.0[..])
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(None)
                }
                async fn spend_email_token(
                    &self,
                    hash: &TokenHash,
                    purpose: EmailPurpose,
                    now: OffsetDateTime,
                ) -> Result<Option<EmailTokenRecord>, StoreError> {
                    let mut tx = dialect::begin_write(&self.writer).await?;
                    let Some((user, email, created_at)) =
                        spend_in(&mut tx, hash, purpose, now).await?
                    else {
                        return Ok(None);
                    };
                    let user = user_in(&mut tx, user).await?;
                    tx.commit().await?;
                    Ok(Some(EmailTokenRecord {
                        user,
                        purpose,
                        email,
                        created_at,
                    }))
                }
                async fn reset_password(
                    &self,
                    hash: &TokenHash,
                    password_hash: &PasswordHash,
                    notice: &NewMail,
                    now: OffsetDateTime,
                ) -> Result<Option<UserId>, StoreError> {
                    let mut tx = dialect::begin_write(&self.writer).await?;
                    if lock_token_user(&mut tx, hash).await?.is_none() {
                        return Ok(None);
                    }
                    let Some((user, _, _)) =
                        spend_in(&mut tx, hash, EmailPurpose::Reset, now).await?
                    else {
                        return Ok(None);
                    };
                    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                        .bind(password_hash.as_phc())
                        .bind(user.0)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("DELETE FROM email_tokens WHERE user_id = $1 AND purpose = $2")
                        .bind(user.0)
                        .bind(EmailPurpose::Reset.as_str())
                        .execute(&mut *tx)
                        .await?;
                    insert_mail!(notice).execute(&mut *tx).await?;
                    tx.commit().await?;
                    Ok(Some(user))
                }
                async fn confirm_email(
                    &self,
                    hash: &TokenHash,
                    purpose: EmailPurpose,
                    notice: Option<&NewMail>,
                    now: OffsetDateTime,
                ) -> Result<Option<User>, StoreError> {
                    // Only these prove an address; a token of another purpose is left unspent.
                    if !matches!(purpose, EmailPurpose::Verify | EmailPurpose::ChangeEmail) {
                        return Ok(None);
                    }
                    let mut tx = dialect::begin_write(&self.writer).await?;
                    if lock_token_user(&mut tx, hash).await?.is_none() {
                        return Ok(None);
                    }
                    let Some((user, email, _)) = spend_in(&mut tx, hash, purpose, now).await?
                    else {
                        return Ok(None);
                    };
                    if purpose == EmailPurpose::ChangeEmail {
                        // Another account may have taken the address since the mail went out:
                        // the unique index refuses (EmailTaken), and returning drops `tx`, which
                        // rolls it back, so the token is not spent.
                        sqlx::query("UPDATE users SET email = $1, email_verified = TRUE WHERE id = $2")
                            .bind(email.as_str())
                            .bind(user.0)
                            .execute(&mut *tx)
                            .await?;
                        // Links to prove the old address, or another new one, are moot now.
                        sqlx::query(
                            "DELETE FROM email_tokens WHERE user_id = $1 AND purpose IN ($2, $3)",
                        )
                        .bind(user.0)
                        .bind(EmailPurpose::ChangeEmail.as_str())
                        .bind(EmailPurpose::Verify.as_str())
                        .execute(&mut *tx)
                        .await?;
                    } else {
                        // The address may have changed since the mail went out: the link
                        // proves only the one it was sent to. Compared under the same fold as
                        // everywhere else.
                        sqlx::query(concat!(
                            "UPDATE users SET email_verified = TRUE WHERE id = $1 AND ",
                            dialect::ascii_lower!("email"),
                            " = $2"
                        ))
                        .bind(user.0)
                        .bind(email_key(&email))
                        .execute(&mut *tx)
                        .await?;
                    }
                    if let Some(notice) = notice {
                        insert_mail!(notice).execute(&mut *tx).await?;
                    }
                    let user = user_in(&mut tx, user).await?;
                    tx.commit().await?;
                    Ok(Some(user))
                }
                async fn purge_email_tokens(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
                    let tokens = sqlx::query("DELETE FROM email_tokens WHERE expires_at < $1")
                        .bind(to_micros(before))
                        .execute(&self.writer)
                        .await?;
                    Ok(tokens.rows_affected())
                }
            }
        };
    };
}
pub(crate) use email_store;
