//! The embedded default: one SQLite file in WAL mode.

use std::str::FromStr;

/// The database's own clock, in unix microseconds: the one clock every node shares.
macro_rules! db_now_micros {
    () => {
        "CAST(unixepoch('subsec') * 1000000 AS INTEGER)"
    };
}

mod account_changes;
mod audit;
mod identities;
mod keys;
mod posts;
mod sessions;

use async_trait::async_trait;
use hallpass_core::{
    clock::{from_micros, to_micros},
    password::PasswordHash,
    user::{NewUser, User, UserId, Username},
};
use sqlx::{
    Connection, Sqlite, SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use time::OffsetDateTime;

use crate::{
    HealthCheck, SqliteDurability, StoreError, StoreOptions, UserQuery, UserRevocation, UserStore,
    UserUpdate,
    rows::{self, roles_to_text, user_columns},
};

/// Users, sessions and the audit log in a SQLite database.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url`, e.g. `sqlite://hallpass.db`.
    pub async fn connect(url: &str, store: &StoreOptions) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .foreign_keys(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match store.sqlite_durability {
                SqliteDurability::Full => SqliteSynchronous::Full,
                SqliteDurability::Normal => SqliteSynchronous::Normal,
            })
            .busy_timeout(store.statement_timeout);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(store.acquire_timeout)
            .after_release(|conn, _| {
                Box::pin(async move {
                    // A transaction whose COMMIT failed (SQLITE_FULL: SQLite already rolled it
                    // back, so the ROLLBACK on drop fails too) leaves sqlx's depth counter above
                    // zero, and every later `begin` on the connection fails. The ping waits for
                    // the queued rollback; a connection still "in" a transaction is closed, never
                    // pooled (docs/operations.md, "Store failures").
                    conn.ping().await?;
                    Ok(!conn.is_in_transaction())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }

    /// Applies the SQLite migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/sqlite")
            .run(&self.pool)
            .await?;
        Ok(())
    }

    /// The connection pool, for tests and tools that inspect the database.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, user: &NewUser) -> Result<User, StoreError> {
        sqlx::query(
            "INSERT INTO users (id, username, username_key, email, roles, disabled, password_hash, created_at)
             VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
        )
        .bind(user.id.0)
        .bind(user.username.as_str())
        .bind(user.username.canonical())
        .bind(user.email.as_ref().map(|e| e.as_str()))
        .bind(roles_to_text(&user.roles))
        .bind(user.password_hash.as_phc())
        .bind(to_micros(user.created_at))
        .execute(&self.pool)
        .await?;
        self.user_by_id(user.id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("inserted user vanished".to_owned()))
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let sql = concat!("SELECT ", user_columns!(), " FROM users u WHERE u.id = ?");
        let row = sqlx::query(sql)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(rows::user).transpose()
    }

    async fn user_by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
        let sql = concat!(
            "SELECT ",
            user_columns!(),
            " FROM users u WHERE u.username_key = ?"
        );
        let row = sqlx::query(sql)
            .bind(username.canonical())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(rows::user).transpose()
    }

    async fn list_users(&self, query: &UserQuery) -> Result<Vec<User>, StoreError> {
        let sql = concat!("SELECT ", user_columns!(), " FROM users u
             WHERE ?1 IS NULL OR instr(u.username_key, lower(?1)) > 0 OR instr(lower(coalesce(u.email, '')), lower(?1)) > 0
             ORDER BY u.created_at, u.id LIMIT ?2 OFFSET ?3");
        let rows = sqlx::query(sql)
            .bind(query.search.as_deref())
            .bind(i64::from(query.limit))
            .bind(i64::from(query.offset))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(rows::user).collect()
    }

    async fn set_password_hash(&self, id: UserId, hash: &PasswordHash) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
            .bind(hash.as_phc())
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn update_user(
        &self,
        id: UserId,
        update: &UserUpdate,
        at: OffsetDateTime,
    ) -> Result<Option<User>, StoreError> {
        self.update_user_guarded(id, update, at).await
    }

    async fn delete_user(&self, id: UserId, at: OffsetDateTime) -> Result<bool, StoreError> {
        self.delete_user_guarded(id, at).await
    }

    async fn user_revocations_since(
        &self,
        since: OffsetDateTime,
    ) -> Result<Vec<UserRevocation>, StoreError> {
        self.user_marks_since(since).await
    }
}

#[async_trait]
impl HealthCheck for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query_scalar::<Sqlite, i64>("SELECT 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(())
    }

    async fn database_time(&self) -> Result<OffsetDateTime, StoreError> {
        let micros: i64 = sqlx::query_scalar(concat!("SELECT ", db_now_micros!()))
            .fetch_one(&self.pool)
            .await?;
        Ok(from_micros(micros))
    }
}
