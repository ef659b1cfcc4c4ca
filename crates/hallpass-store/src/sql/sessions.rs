//! Sessions and their refresh families, written once for both backends.

/// Implements [`crate::SessionStore`] for `$store` in the dialect `crate::sql::dialect::$dialect`.
macro_rules! session_store {
    ($store:ident, $dialect:ident) => {
        const _: () = {
            use async_trait::async_trait;
            use hallpass_core::{
                clock::{from_micros, to_micros},
                session::{LimitPolicy, Session, SessionId, SessionLimit, TokenHash},
                user::{User, UserId},
            };
            use sqlx::Row;
            use time::OffsetDateTime;
            use uuid::Uuid;

            use crate::{
                RefreshRead, SessionStore, StoreError,
                sql::rows::{self, session_columns, user_columns},
                sql::dialect::{$dialect as dialect, RowLock},
            };

            #[async_trait]
            impl SessionStore for $store {
                async fn create_session(
                    &self,
                    session: &Session,
                    limit: Option<SessionLimit>,
                    idle_cutoff: OffsetDateTime,
                ) -> Result<Vec<SessionId>, StoreError> {
                    // Concurrent logins of one user serialise here instead of both counting the
                    // same sessions and both seeing room for one more.
                    let mut tx = dialect::begin_write(&self.writer).await?;
                    let mut evicted = Vec::new();
                    if let Some(limit) = limit {
                        dialect::lock_user(&mut tx, session.user_id.0, RowLock::Update).await?;
                        let live: Vec<Uuid> = sqlx::query_scalar(
                            "SELECT id FROM sessions
                             WHERE user_id = $1 AND revoked_at IS NULL AND absolute_expires_at > $2 AND (kind = 'token' OR last_seen_at > $3)
                             ORDER BY created_at, id",
                        )
                        .bind(session.user_id.0)
                        .bind(to_micros(session.created_at))
                        .bind(to_micros(idle_cutoff))
                        .fetch_all(&mut *tx)
                        .await?;
                        let excess = (live.len() + 1).saturating_sub(limit.max as usize);
                        if excess > 0 {
                            if limit.policy == LimitPolicy::RejectNew {
                                return Err(StoreError::SessionLimitReached);
                            }
                            let doomed: Vec<Uuid> = live.into_iter().take(excess).collect();
                            dialect::revoke_sessions(&mut tx, &doomed, to_micros(session.created_at))
                                .await?;
                            evicted.extend(doomed.into_iter().map(SessionId));
                        }
                    }
                    sqlx::query(concat!(
                        "INSERT INTO sessions (id, user_id, kind, token_hash, created_at, last_seen_at, absolute_expires_at, user_agent, ip,
                                               refresh_salt, refresh_generation, refresh_rotated_at, amr, auth_time, refresh_rotated_db_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, ",
                        dialect::now_micros!(),
                        ")"
                    ))
                    .bind(session.id.0)
                    .bind(session.user_id.0)
                    .bind(session.kind.as_str())
                    .bind(&session.token_hash.0[..])
                    .bind(to_micros(session.created_at))
                    .bind(to_micros(session.last_seen_at))
                    .bind(to_micros(session.absolute_expires_at))
                    .bind(session.user_agent.as_deref())
                    .bind(session.ip.as_deref())
                    .bind(session.refresh.as_ref().map(|r| r.salt.to_vec()))
                    .bind(session.refresh.as_ref().map_or(0, |r| {
                        i64::try_from(r.state.generation).unwrap_or(i64::MAX)
                    }))
                    .bind(session.refresh.as_ref().map(|r| to_micros(r.state.rotated_at)))
                    .bind(session.amr.to_stored())
                    .bind(to_micros(session.auth_time))
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(evicted)
                }

                async fn session_by_token_hash(
                    &self,
                    hash: &TokenHash,
                ) -> Result<Option<(Session, User)>, StoreError> {
                    let sql = concat!(
                        "SELECT ",
                        session_columns!(),
                        ", ",
                        user_columns!(),
                        " FROM sessions s JOIN users u ON u.id = s.user_id
                         WHERE s.token_hash = $1"
                    );
                    let row = sqlx::query(sql)
                        .bind(&hash.0[..])
                        .fetch_optional(&self.pool)
                        .await?;
                    row.map(|row| Ok((rows::session(&row)?, rows::user(&row)?)))
                        .transpose()
                }

                async fn reauthenticate(
                    &self,
                    id: SessionId,
                    at: OffsetDateTime,
                ) -> Result<bool, StoreError> {
                    let done = sqlx::query(concat!(
                        "UPDATE sessions SET auth_time = ",
                        dialect::greatest!("auth_time", "$1"),
                        " WHERE id = $2 AND revoked_at IS NULL"
                    ))
                    .bind(to_micros(at))
                    .bind(id.0)
                    .execute(&self.writer)
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn touch_session(
                    &self,
                    id: SessionId,
                    seen_at: OffsetDateTime,
                ) -> Result<(), StoreError> {
                    sqlx::query(concat!(
                        "UPDATE sessions SET last_seen_at = ",
                        dialect::greatest!("last_seen_at", "$1"),
                        " WHERE id = $2"
                    ))
                    .bind(to_micros(seen_at))
                    .bind(id.0)
                    .execute(&self.writer)
                    .await?;
                    Ok(())
                }

                async fn sessions_of_user(
                    &self,
                    user: UserId,
                    now: OffsetDateTime,
                ) -> Result<Vec<Session>, StoreError> {
                    let sql = concat!(
                        "SELECT ",
                        session_columns!(),
                        " FROM sessions s
                         WHERE s.user_id = $1 AND s.revoked_at IS NULL AND s.absolute_expires_at > $2
                         ORDER BY s.created_at, s.id"
                    );
                    let rows = sqlx::query(sql)
                        .bind(user.0)
                        .bind(to_micros(now))
                        .fetch_all(&self.pool)
                        .await?;
                    rows.iter().map(rows::session).collect()
                }

                async fn revoke_session(
                    &self,
                    owner: UserId,
                    id: SessionId,
                    at: OffsetDateTime,
                ) -> Result<bool, StoreError> {
                    let done = sqlx::query(
                        "UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
                    )
                    .bind(to_micros(at))
                    .bind(id.0)
                    .bind(owner.0)
                    .execute(&self.writer)
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn revoke_user_sessions(
                    &self,
                    user: UserId,
                    keep: Option<SessionId>,
                    at: OffsetDateTime,
                ) -> Result<Vec<SessionId>, StoreError> {
                    let ids: Vec<Uuid> = sqlx::query_scalar(concat!(
                        "UPDATE sessions SET revoked_at = $1
                         WHERE user_id = $2 AND revoked_at IS NULL AND (",
                        dialect::param!(3, uuid),
                        " IS NULL OR id <> $3)
                         RETURNING id"
                    ))
                    .bind(to_micros(at))
                    .bind(user.0)
                    .bind(keep.map(|k| k.0))
                    .fetch_all(&self.writer)
                    .await?;
                    Ok(ids.into_iter().map(SessionId).collect())
                }

                async fn session_by_id(
                    &self,
                    id: SessionId,
                ) -> Result<Option<(Session, User)>, StoreError> {
                    let sql = concat!(
                        "SELECT ",
                        session_columns!(),
                        ", ",
                        user_columns!(),
                        " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1"
                    );
                    let row = sqlx::query(sql)
                        .bind(id.0)
                        .fetch_optional(&self.pool)
                        .await?;
                    row.map(|row| Ok((rows::session(&row)?, rows::user(&row)?)))
                        .transpose()
                }

                async fn session_for_refresh(
                    &self,
                    id: SessionId,
                ) -> Result<Option<RefreshRead>, StoreError> {
                    let sql = concat!(
                        "SELECT ",
                        session_columns!(),
                        ", ",
                        user_columns!(),
                        ", ",
                        dialect::now_micros!(),
                        " - coalesce(s.refresh_rotated_db_at, ",
                        dialect::now_micros!(),
                        ") AS since_rotation FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1"
                    );
                    let row = sqlx::query(sql)
                        .bind(id.0)
                        .fetch_optional(&self.pool)
                        .await?;
                    row.map(|row| {
                        Ok(RefreshRead {
                            session: rows::session(&row)?,
                            user: rows::user(&row)?,
                            since_rotation: time::Duration::microseconds(
                                row.try_get("since_rotation")?,
                            ),
                        })
                    })
                    .transpose()
                }

                async fn rotate_refresh(
                    &self,
                    id: SessionId,
                    from: u64,
                    at: OffsetDateTime,
                ) -> Result<bool, StoreError> {
                    let from = i64::try_from(from)
                        .map_err(|_| StoreError::Corrupt("refresh generation overflow".to_owned()))?;
                    let done = sqlx::query(concat!(
                        "UPDATE sessions SET refresh_generation = refresh_generation + 1, refresh_rotated_at = $1, refresh_rotated_db_at = ",
                        dialect::now_micros!(),
                        "
                         WHERE id = $2 AND refresh_generation = $3 AND revoked_at IS NULL AND refresh_salt IS NOT NULL"
                    ))
                    .bind(to_micros(at))
                    .bind(id.0)
                    .bind(from)
                    .execute(&self.writer)
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn revoked_since(
                    &self,
                    since: OffsetDateTime,
                ) -> Result<Vec<(SessionId, UserId, OffsetDateTime)>, StoreError> {
                    let rows: Vec<(Uuid, Uuid, i64)> = sqlx::query_as(
                        "SELECT id, user_id, revoked_at FROM sessions WHERE revoked_at > $1",
                    )
                    .bind(to_micros(since))
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows
                        .into_iter()
                        .map(|(id, user, at)| (SessionId(id), UserId(user), from_micros(at)))
                        .collect())
                }

                async fn count_live_sessions(
                    &self,
                    now: OffsetDateTime,
                    idle_cutoff: OffsetDateTime,
                ) -> Result<u64, StoreError> {
                    let count: i64 = sqlx::query_scalar(
                        "SELECT count(*) FROM sessions
                         WHERE revoked_at IS NULL AND absolute_expires_at > $1 AND (kind = 'token' OR last_seen_at > $2)",
                    )
                    .bind(to_micros(now))
                    .bind(to_micros(idle_cutoff))
                    .fetch_one(&self.pool)
                    .await?;
                    Ok(u64::try_from(count).unwrap_or(0))
                }

                async fn purge_sessions(
                    &self,
                    before: OffsetDateTime,
                    idle_cutoff: OffsetDateTime,
                ) -> Result<u64, StoreError> {
                    let done = sqlx::query(
                        "DELETE FROM sessions
                         WHERE revoked_at < $1 OR absolute_expires_at < $1 OR (kind = 'cookie' AND last_seen_at < $2)",
                    )
                    .bind(to_micros(before))
                    .bind(to_micros(idle_cutoff))
                    .execute(&self.writer)
                    .await?;
                    // A mark outlives every token it refuses long before `before`.
                    sqlx::query("DELETE FROM user_token_watermarks WHERE revoked_at < $1")
                        .bind(to_micros(before))
                        .execute(&self.writer)
                        .await?;
                    Ok(done.rows_affected())
                }
            }
        };
    };
}
pub(crate) use session_store;
