//! Second factors, recovery codes and login challenges, written once for both backends.

/// Implements [`crate::FactorStore`] for `$store` in the dialect `crate::sql::dialect::$dialect`.
macro_rules! factor_store {
    ($store:ident, $dialect:ident) => {
        const _: () = {
            use async_trait::async_trait;
            use hallpass_core::{
                clock::to_micros,
                factor::{FactorId, amr::Amr},
                session::{SessionKind, TokenHash},
                user::UserId,
            };
            use sqlx::Row;
            use time::OffsetDateTime;

            use crate::{
                Factor, FactorStore, MfaChallenge, NewFactor, NewMfaChallenge, StoreError,
                sql::dialect::$dialect as dialect, sql::rows,
            };

            fn stored_step(step: u64) -> i64 {
                i64::try_from(step).unwrap_or(i64::MAX)
            }

            fn challenge(row: &<dialect::Db as sqlx::Database>::Row) -> Result<MfaChallenge, StoreError> {
                let kind: String = row.try_get("kind")?;
                Ok(MfaChallenge {
                    user: UserId(row.try_get("user_id")?),
                    kind: SessionKind::parse(&kind)
                        .ok_or_else(|| StoreError::Corrupt(format!("challenge kind {kind:?}")))?,
                    amr: Amr::from_stored(&row.try_get::<String, _>("amr")?),
                    attempts: u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
                })
            }

            #[async_trait]
            impl FactorStore for $store {
                async fn add_factor(&self, factor: &NewFactor) -> Result<(), StoreError> {
                    let mut tx = dialect::begin_write(&self.writer).await?;
                    sqlx::query(
                        "DELETE FROM factors WHERE user_id = $1 AND kind = $2 AND confirmed_at IS NULL",
                    )
                    .bind(factor.user.0)
                    .bind(factor.kind.as_str())
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO factors (id, user_id, kind, name, secret, credential, credential_id, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(factor.id.0)
                    .bind(factor.user.0)
                    .bind(factor.kind.as_str())
                    .bind(factor.name.as_str())
                    .bind(factor.secret.as_deref())
                    .bind(factor.credential.as_deref())
                    .bind(factor.credential_id.as_deref())
                    .bind(to_micros(factor.created_at))
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn factors(&self, user: UserId) -> Result<Vec<Factor>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT id, user_id, kind, name, secret, credential, credential_id, created_at,
                                confirmed_at, last_used_at, last_step
                         FROM factors WHERE user_id = $1 ORDER BY created_at, id",
                    )
                    .bind(user.0)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(rows::factor).collect()
                }

                async fn has_factor(&self, user: UserId) -> Result<bool, StoreError> {
                    let found = sqlx::query(
                        "SELECT 1 FROM factors WHERE user_id = $1 AND confirmed_at IS NOT NULL LIMIT 1",
                    )
                    .bind(user.0)
                    .fetch_optional(&self.pool)
                    .await?;
                    Ok(found.is_some())
                }

                async fn confirm_factor(
                    &self,
                    user: UserId,
                    id: FactorId,
                    step: Option<u64>,
                    recovery_codes: Option<&[TokenHash]>,
                    at: OffsetDateTime,
                ) -> Result<bool, StoreError> {
                    let mut tx = dialect::begin_write(&self.writer).await?;
                    let confirmed = sqlx::query(
                        "UPDATE factors SET confirmed_at = $3, last_used_at = $3, last_step = $4
                         WHERE id = $1 AND user_id = $2 AND confirmed_at IS NULL",
                    )
                    .bind(id.0)
                    .bind(user.0)
                    .bind(to_micros(at))
                    .bind(step.map(stored_step))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                        == 1;
                    if !confirmed {
                        return Ok(false);
                    }
                    if let Some(codes) = recovery_codes {
                        replace_codes(&mut tx, user, codes, at).await?;
                    }
                    tx.commit().await?;
                    Ok(true)
                }

                async fn use_totp_step(
                    &self,
                    id: FactorId,
                    step: u64,
                    at: OffsetDateTime,
                ) -> Result<bool, StoreError> {
                    let done = sqlx::query(
                        "UPDATE factors SET last_step = $2, last_used_at = $3
                         WHERE id = $1 AND confirmed_at IS NOT NULL
                           AND (last_step IS NULL OR last_step < $2)",
                    )
                    .bind(id.0)
                    .bind(stored_step(step))
                    .bind(to_micros(at))
                    .execute(&self.writer)
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn delete_factor(&self, user: UserId, id: FactorId) -> Result<bool, StoreError> {
                    let mut tx = dialect::begin_write(&self.writer).await?;
                    let deleted = sqlx::query("DELETE FROM factors WHERE id = $1 AND user_id = $2")
                        .bind(id.0)
                        .bind(user.0)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected()
                        == 1;
                    sqlx::query(
                        "DELETE FROM recovery_codes WHERE user_id = $1 AND NOT EXISTS (
                             SELECT 1 FROM factors WHERE user_id = $1 AND confirmed_at IS NOT NULL)",
                    )
                    .bind(user.0)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(deleted)
                }

                async fn replace_recovery_codes(
                    &self,
                    user: UserId,
                    codes: &[TokenHash],
                    at: OffsetDateTime,
                ) -> Result<(), StoreError> {
                    let mut tx = dialect::begin_write(&self.writer).await?;
                    replace_codes(&mut tx, user, codes, at).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn use_recovery_code(
                    &self,
                    user: UserId,
                    hash: &TokenHash,
                    at: OffsetDateTime,
                ) -> Result<bool, StoreError> {
                    let used = sqlx::query(
                        "UPDATE recovery_codes SET used_at = $3
                         WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
                    )
                    .bind(user.0)
                    .bind(&hash.0[..])
                    .bind(to_micros(at))
                    .execute(&self.writer)
                    .await?;
                    Ok(used.rows_affected() == 1)
                }

                async fn recovery_codes_left(&self, user: UserId) -> Result<u32, StoreError> {
                    let left: i64 = sqlx::query_scalar(
                        "SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
                    )
                    .bind(user.0)
                    .fetch_one(&self.pool)
                    .await?;
                    Ok(u32::try_from(left).unwrap_or(u32::MAX))
                }

                async fn create_mfa_challenge(
                    &self,
                    challenge: &NewMfaChallenge,
                ) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO mfa_challenges (token_hash, user_id, kind, amr, created_at, expires_at)
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(&challenge.hash.0[..])
                    .bind(challenge.user.0)
                    .bind(challenge.kind.as_str())
                    .bind(challenge.amr.to_stored())
                    .bind(to_micros(challenge.created_at))
                    .bind(to_micros(challenge.expires_at))
                    .execute(&self.writer)
                    .await?;
                    Ok(())
                }

                async fn mfa_challenge(
                    &self,
                    hash: &TokenHash,
                    now: OffsetDateTime,
                ) -> Result<Option<MfaChallenge>, StoreError> {
                    let row = sqlx::query(
                        "SELECT user_id, kind, amr, attempts FROM mfa_challenges
                         WHERE token_hash = $1 AND expires_at > $2",
                    )
                    .bind(&hash.0[..])
                    .bind(to_micros(now))
                    .fetch_optional(&self.pool)
                    .await?;
                    row.as_ref().map(challenge).transpose()
                }

                async fn count_mfa_attempt(
                    &self,
                    hash: &TokenHash,
                    max_attempts: u32,
                ) -> Result<bool, StoreError> {
                    let mut tx = dialect::begin_write(&self.writer).await?;
                    sqlx::query("UPDATE mfa_challenges SET attempts = attempts + 1 WHERE token_hash = $1")
                        .bind(&hash.0[..])
                        .execute(&mut *tx)
                        .await?;
                    let spent = sqlx::query(
                        "DELETE FROM mfa_challenges WHERE token_hash = $1 AND attempts >= $2",
                    )
                    .bind(&hash.0[..])
                    .bind(i64::from(max_attempts))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                        > 0;
                    tx.commit().await?;
                    Ok(!spent)
                }

                async fn spend_mfa_challenge(
                    &self,
                    hash: &TokenHash,
                    now: OffsetDateTime,
                ) -> Result<Option<MfaChallenge>, StoreError> {
                    let row = sqlx::query(
                        "DELETE FROM mfa_challenges WHERE token_hash = $1 AND expires_at > $2
                         RETURNING user_id, kind, amr, attempts",
                    )
                    .bind(&hash.0[..])
                    .bind(to_micros(now))
                    .fetch_optional(&self.writer)
                    .await?;
                    row.as_ref().map(challenge).transpose()
                }

                async fn factor_required_since(
                    &self,
                    user: UserId,
                    now: OffsetDateTime,
                ) -> Result<OffsetDateTime, StoreError> {
                    let since: Option<i64> = sqlx::query_scalar(
                        "UPDATE users SET factor_required_since = COALESCE(factor_required_since, $2)
                         WHERE id = $1 RETURNING factor_required_since",
                    )
                    .bind(user.0)
                    .bind(to_micros(now))
                    .fetch_optional(&self.writer)
                    .await?;
                    Ok(since.map_or(now, hallpass_core::clock::from_micros))
                }

                async fn purge_mfa_challenges(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
                    let purged = sqlx::query("DELETE FROM mfa_challenges WHERE expires_at < $1")
                        .bind(to_micros(before))
                        .execute(&self.writer)
                        .await?;
                    Ok(purged.rows_affected())
                }
            }

            async fn replace_codes(
                tx: &mut sqlx::Transaction<'_, dialect::Db>,
                user: UserId,
                codes: &[TokenHash],
                at: OffsetDateTime,
            ) -> Result<(), StoreError> {
                sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                    .bind(user.0)
                    .execute(&mut **tx)
                    .await?;
                for code in codes {
                    sqlx::query(
                        "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)",
                    )
                    .bind(user.0)
                    .bind(&code.0[..])
                    .bind(to_micros(at))
                    .execute(&mut **tx)
                    .await?;
                }
                Ok(())
            }
        };
    };
}
pub(crate) use factor_store;
