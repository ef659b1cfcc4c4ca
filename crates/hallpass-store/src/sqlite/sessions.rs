//! Sessions and their refresh families in SQLite.

use async_trait::async_trait;
use hallpass_core::{
    clock::{from_micros, to_micros},
    session::{LimitPolicy, Session, SessionId, SessionLimit, TokenHash},
    user::{User, UserId},
};
use sqlx::Row;
use time::OffsetDateTime;
use uuid::Uuid;

use super::SqliteStore;
use crate::{
    RefreshRead, SessionStore, StoreError,
    rows::{self, session_columns, user_columns},
};

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create_session(
        &self,
        session: &Session,
        limit: Option<SessionLimit>,
        idle_cutoff: OffsetDateTime,
    ) -> Result<Vec<SessionId>, StoreError> {
        // IMMEDIATE takes the write lock up front: concurrent logins of one user serialise here
        // instead of both counting the same sessions (and a deferred transaction's lock upgrade
        // would fail with SQLITE_BUSY instead of waiting).
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut evicted = Vec::new();
        if let Some(limit) = limit {
            let live: Vec<Uuid> = sqlx::query_scalar(
                "SELECT id FROM sessions
                 WHERE user_id = ? AND revoked_at IS NULL AND absolute_expires_at > ? AND (kind = 'token' OR last_seen_at > ?)
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
                for id in live.into_iter().take(excess) {
                    sqlx::query("UPDATE sessions SET revoked_at = ? WHERE id = ?")
                        .bind(to_micros(session.created_at))
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    evicted.push(SessionId(id));
                }
            }
        }
        sqlx::query(
            concat!(
            "INSERT INTO sessions (id, user_id, kind, token_hash, created_at, last_seen_at, absolute_expires_at, user_agent, ip,
                                   refresh_salt, refresh_generation, refresh_rotated_at, refresh_rotated_db_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ",
            db_now_micros!(),
            ")"
        ),
        )
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
        .bind(session.refresh.as_ref().map_or(0, |r| i64::try_from(r.state.generation).unwrap_or(i64::MAX)))
        .bind(session.refresh.as_ref().map(|r| to_micros(r.state.rotated_at)))
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
             WHERE s.token_hash = ?"
        );
        let row = sqlx::query(sql)
            .bind(&hash.0[..])
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok((rows::session(&row)?, rows::user(&row)?)))
            .transpose()
    }

    async fn touch_session(
        &self,
        id: SessionId,
        seen_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET last_seen_at = max(last_seen_at, ?) WHERE id = ?")
            .bind(to_micros(seen_at))
            .bind(id.0)
            .execute(&self.pool)
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
             WHERE s.user_id = ? AND s.revoked_at IS NULL AND s.absolute_expires_at > ?
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
            "UPDATE sessions SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL",
        )
        .bind(to_micros(at))
        .bind(id.0)
        .bind(owner.0)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn revoke_user_sessions(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        at: OffsetDateTime,
    ) -> Result<Vec<SessionId>, StoreError> {
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "UPDATE sessions SET revoked_at = ?1
             WHERE user_id = ?2 AND revoked_at IS NULL AND (?3 IS NULL OR id <> ?3)
             RETURNING id",
        )
        .bind(to_micros(at))
        .bind(user.0)
        .bind(keep.map(|k| k.0))
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().map(SessionId).collect())
    }

    async fn session_by_id(&self, id: SessionId) -> Result<Option<(Session, User)>, StoreError> {
        let sql = concat!(
            "SELECT ",
            session_columns!(),
            ", ",
            user_columns!(),
            " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?"
        );
        let row = sqlx::query(sql)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok((rows::session(&row)?, rows::user(&row)?)))
            .transpose()
    }

    async fn session_for_refresh(&self, id: SessionId) -> Result<Option<RefreshRead>, StoreError> {
        let sql = concat!(
            "SELECT ",
            session_columns!(),
            ", ",
            user_columns!(),
            ", ",
            db_now_micros!(),
            " - coalesce(s.refresh_rotated_db_at, ",
            db_now_micros!(),
            ") AS since_rotation FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?"
        );
        let row = sqlx::query(sql)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(RefreshRead {
                session: rows::session(&row)?,
                user: rows::user(&row)?,
                since_rotation: time::Duration::microseconds(row.try_get("since_rotation")?),
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
        let done = sqlx::query(
            concat!("UPDATE sessions SET refresh_generation = refresh_generation + 1, refresh_rotated_at = ?, refresh_rotated_db_at = ", db_now_micros!(), "
             WHERE id = ? AND refresh_generation = ? AND revoked_at IS NULL AND refresh_salt IS NOT NULL"),
        )
        .bind(to_micros(at))
        .bind(id.0)
        .bind(from)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn revoked_since(
        &self,
        since: OffsetDateTime,
    ) -> Result<Vec<(SessionId, UserId, OffsetDateTime)>, StoreError> {
        let rows: Vec<(Uuid, Uuid, i64)> =
            sqlx::query_as("SELECT id, user_id, revoked_at FROM sessions WHERE revoked_at > ?")
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
             WHERE revoked_at IS NULL AND absolute_expires_at > ? AND (kind = 'token' OR last_seen_at > ?)",
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
             WHERE revoked_at < ?1 OR absolute_expires_at < ?1 OR (kind = 'cookie' AND last_seen_at < ?2)",
        )
        .bind(to_micros(before))
        .bind(to_micros(idle_cutoff))
        .execute(&self.pool)
        .await?;
        // A mark outlives every token it refuses long before `before`.
        sqlx::query("DELETE FROM user_token_watermarks WHERE revoked_at < ?")
            .bind(to_micros(before))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
