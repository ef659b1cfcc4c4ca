//! For several nodes on one shared PostgreSQL database.

/// The database's own clock, in unix microseconds: the one clock every node shares.
macro_rules! db_now_micros {
    () => {
        "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint"
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
use std::str::FromStr;

use sqlx::{
    Connection, PgPool, Postgres,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use time::OffsetDateTime;

use crate::{
    HealthCheck, StoreError, StoreOptions, UserQuery, UserRevocation, UserStore, UserUpdate,
    rows::{self, roles_to_text, user_columns},
};

/// Users, sessions and the audit log in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to `url`, e.g. `postgres://hallpass@db/hallpass`.
    pub async fn connect(url: &str, store: &StoreOptions) -> Result<Self, StoreError> {
        let millis = store.statement_timeout.as_millis().to_string();
        // The server ends a statement, or a transaction left idle (its client gone mid-way),
        // that outlives the bound, instead of holding locks and a connection.
        let options = PgConnectOptions::from_str(url)?.options([
            ("statement_timeout", millis.as_str()),
            ("idle_in_transaction_session_timeout", millis.as_str()),
        ]);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(store.acquire_timeout)
            // A connection returned inside a transaction (a failed COMMIT) is closed, never
            // handed to the next request (docs/operations.md, "Store failures").
            .after_release(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }))
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }

    /// A store on an existing pool (tests point it at a schema of their own).
    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Applies the PostgreSQL migrations; sqlx holds an advisory lock meanwhile, so several nodes
    /// starting together apply them once.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/postgres")
            .run(&self.pool)
            .await?;
        Ok(())
    }

    /// The connection pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl UserStore for PostgresStore {
    async fn create_user(&self, user: &NewUser) -> Result<User, StoreError> {
        sqlx::query(
            "INSERT INTO users (id, username, username_key, email, roles, disabled, password_hash, created_at)
             VALUES ($1, $2, $3, $4, $5, FALSE, $6, $7)",
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
        let sql = concat!("SELECT ", user_columns!(), " FROM users u WHERE u.id = $1");
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
            " FROM users u WHERE u.username_key = $1"
        );
        let row = sqlx::query(sql)
            .bind(username.canonical())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(rows::user).transpose()
    }

    async fn list_users(&self, query: &UserQuery) -> Result<Vec<User>, StoreError> {
        let sql = concat!(
            "SELECT ",
            user_columns!(),
            " FROM users u
             WHERE $1::text IS NULL OR strpos(u.username_key, lower($1)) > 0
                OR strpos(lower(coalesce(u.email, '')), lower($1)) > 0
             ORDER BY u.created_at, u.id LIMIT $2 OFFSET $3"
        );
        let rows = sqlx::query(sql)
            .bind(query.search.as_deref())
            .bind(i64::from(query.limit))
            .bind(i64::from(query.offset))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(rows::user).collect()
    }

    async fn set_password_hash(&self, id: UserId, hash: &PasswordHash) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
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
impl HealthCheck for PostgresStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query_scalar::<Postgres, i32>("SELECT 1")
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
