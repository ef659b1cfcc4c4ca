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
    pool: SqlitePool,
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
    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/sqlite")
            .run(&self.pool)
            .await?;
        Ok(())
    }
}
