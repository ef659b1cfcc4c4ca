//! Signing keys, written once for both backends.

/// Implements [`crate::KeyStore`] for `$store` in the dialect `crate::sql::dialect::$dialect`.
macro_rules! key_store {
    ($store:ident, $dialect:ident) => {
        const _: () = {
            use async_trait::async_trait;
            use hallpass_core::clock::to_micros;
            use time::OffsetDateTime;

            use crate::{
                KeyStore, StoreError, StoredKey,
                sql::rows,
                sql::dialect::{$dialect as dialect, AdvisoryLock},
            };

            #[async_trait]
            impl KeyStore for $store {
                async fn insert_signing_key(&self, key: &StoredKey) -> Result<bool, StoreError> {
                    let done = sqlx::query(
                        "INSERT INTO signing_keys (kid, alg, sealed_private, public_jwk, created_at, activates_at, retires_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (kid) DO NOTHING",
                    )
                    .bind(&key.kid)
                    .bind(&key.alg)
                    .bind(&key.sealed_private)
                    .bind(&key.public_jwk)
                    .bind(to_micros(key.created_at))
                    .bind(to_micros(key.activates_at))
                    .bind(key.retires_at.map(to_micros))
                    .execute(&self.writer)
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn insert_first_signing_key(
                    &self,
                    key: &StoredKey,
                ) -> Result<bool, StoreError> {
                    // The check and the insert are one statement, and the lock makes them one
                    // step for every node (two READ COMMITTED transactions would both see an
                    // empty table).
                    let mut tx = self.writer.begin().await?;
                    dialect::advisory_lock(&mut tx, AdvisoryLock::FirstSigningKey).await?;
                    let done = sqlx::query(
                        "INSERT INTO signing_keys (kid, alg, sealed_private, public_jwk, created_at, activates_at, retires_at)
                         SELECT $1, $2, $3, $4, $5, $6, $7 WHERE NOT EXISTS (SELECT 1 FROM signing_keys)",
                    )
                    .bind(&key.kid)
                    .bind(&key.alg)
                    .bind(&key.sealed_private)
                    .bind(&key.public_jwk)
                    .bind(to_micros(key.created_at))
                    .bind(to_micros(key.activates_at))
                    .bind(key.retires_at.map(to_micros))
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn signing_keys(
                    &self,
                    now: OffsetDateTime,
                ) -> Result<Vec<StoredKey>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT kid, alg, sealed_private, public_jwk, created_at, activates_at, retires_at FROM signing_keys
                         WHERE retires_at IS NULL OR retires_at > $1 ORDER BY created_at, kid",
                    )
                    .bind(to_micros(now))
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(rows::stored_key).collect()
                }

                async fn retire_signing_key(
                    &self,
                    kid: &str,
                    at: OffsetDateTime,
                ) -> Result<(), StoreError> {
                    sqlx::query(
                        "UPDATE signing_keys SET retires_at = $1 WHERE kid = $2 AND (retires_at IS NULL OR retires_at > $1)",
                    )
                    .bind(to_micros(at))
                    .bind(kid)
                    .execute(&self.writer)
                    .await?;
                    Ok(())
                }
            }
        };
    };
}
pub(crate) use key_store;
