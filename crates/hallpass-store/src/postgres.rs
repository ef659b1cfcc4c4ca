//! For several nodes on one shared PostgreSQL database. The queries are in `sql/`.

use std::str::FromStr;

use sqlx::{
    Connection, PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};

use crate::{StoreError, options::StoreOptions};

/// Users, sessions and the audit log in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// The same pool: PostgreSQL locks rows, not the database, so writes need no queue of their
    /// own (SQLite's store has one).
    writer: PgPool,
}

crate::sql::stamp_backend!(PostgresStore, postgres);

impl PostgresStore {
    /// Connects to `url`, e.g. `postgres://hallpass@db/hallpass`.
    pub(crate) async fn connect(url: &str, store: &StoreOptions) -> Result<Self, StoreError> {
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
        Ok(Self::from_pool(pool))
    }

    /// A store on an existing pool (tests point it at a schema of their own).
    pub fn from_pool(pool: PgPool) -> Self {
        Self {
            writer: pool.clone(),
            pool,
        }
    }

    /// Applies the PostgreSQL migrations; sqlx holds an advisory lock meanwhile, so several nodes
    /// starting together apply them once.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/postgres")
            .run(&self.pool)
            .await?;
        Ok(())
    }
}
