//! The embedded default: one SQLite file in WAL mode. The queries are in `sql/`.

use std::str::FromStr;

use sqlx::{
    Connection, SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use crate::{
    StoreError,
    options::{SqliteDurability, StoreOptions},
};

/// Users, sessions and the audit log in a SQLite database.
#[derive(Debug, Clone)]
pub(crate) struct SqliteStore {
    /// Reads: several connections (WAL readers never wait on the writer), each `query_only`, so
    /// a write sent here by mistake fails at once instead of contending.
    pool: SqlitePool,
    /// Writes: one connection. SQLite has a single writer anyway; queueing writers in the pool
    /// (first come, first served) replaces SQLite's busy handler, whose sleeps of up to 100 ms
    /// between retries let a waiting writer lose the lock again and again under concurrent
    /// writes (docs/operations.md, "SQLite writes").
    writer: SqlitePool,
}

crate::sql::stamp_backend!(SqliteStore, sqlite);

impl SqliteStore {
    /// Opens (creating if missing) the database at `url`, e.g. `sqlite://hallpass.db`.
    pub(crate) async fn connect(url: &str, store: &StoreOptions) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .foreign_keys(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match store.sqlite_durability {
                SqliteDurability::Full => SqliteSynchronous::Full,
                SqliteDurability::Normal => SqliteSynchronous::Normal,
            })
            .busy_timeout(store.statement_timeout);
        // The writer opens the file first: it creates it and switches it to WAL.
        let writer = pool_options(1, store).connect_with(options.clone()).await?;
        let pool = pool_options(8, store)
            .connect_with(options.pragma("query_only", "ON"))
            .await?;
        Ok(Self { pool, writer })
    }

    /// Applies the SQLite migrations.
    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/sqlite")
            .run(&self.writer)
            .await?;
        Ok(())
    }
}

fn pool_options(connections: u32, store: &StoreOptions) -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(connections)
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
}
