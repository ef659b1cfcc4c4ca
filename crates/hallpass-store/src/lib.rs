//! hallpass storage: narrow traits the server depends on, with one implementation per backend.
//!
//! - [`sqlite::SqliteStore`]: the embedded default (`sqlite://hallpass.db`).
//! - [`postgres::PostgresStore`]: for several nodes on one database (`postgres://…`).
//!
//! Both pass the same conformance suite (`tests/store.rs`). Secrets never reach this crate: it
//! sees SHA-256 of session tokens and argon2 PHC strings of passwords.

pub mod bus;
mod cache;
mod error;
pub mod postgres;
mod revoked;
mod rows;
pub mod sqlite;
mod traits;

use std::{sync::Arc, time::Duration};

pub use cache::{CachePolicy, SessionCache};
pub use error::StoreError;
pub use revoked::{RevokedSessions, SessionWatch};
pub use traits::{
    AuditQuery, AuditRecord, AuditStore, HealthCheck, IdentityStore, KeyStore, PostQuery,
    PostStore, RefreshRead, SessionStore, StoredKey, UnlinkOutcome, UserQuery, UserRevocation,
    UserStore, UserUpdate, falsifies_tokens,
};

/// The stores the server holds, each behind its narrow trait. Cheap to clone.
#[derive(Clone)]
pub struct Stores {
    /// Accounts.
    pub users: Arc<dyn UserStore>,
    /// Sessions.
    pub sessions: Arc<dyn SessionStore>,
    /// The audit log.
    pub audit: Arc<dyn AuditStore>,
    /// Signing keys.
    pub keys: Arc<dyn KeyStore>,
    /// Community board posts.
    pub posts: Arc<dyn PostStore>,
    /// Social-login identities.
    pub identities: Arc<dyn IdentityStore>,
    /// Readiness probe.
    pub health: Arc<dyn HealthCheck>,
}

impl Stores {
    /// All traits served by one backend.
    pub fn from_backend<B>(backend: B) -> Self
    where
        B: UserStore
            + SessionStore
            + AuditStore
            + KeyStore
            + PostStore
            + IdentityStore
            + HealthCheck
            + 'static,
    {
        let backend = Arc::new(backend);
        Self {
            users: backend.clone(),
            sessions: backend.clone(),
            audit: backend.clone(),
            keys: backend.clone(),
            posts: backend.clone(),
            identities: backend.clone(),
            health: backend,
        }
    }

    /// Opens the database `url` names (`sqlite://…` or `postgres://…`), creating a SQLite file if
    /// needed, and applies pending migrations (under a lock on PostgreSQL, so nodes may start together).
    pub async fn open(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            let store = sqlite::SqliteStore::connect(url, options).await?;
            store.migrate().await?;
            Ok(Self::from_backend(store))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let store = postgres::PostgresStore::connect(url, options).await?;
            store.migrate().await?;
            Ok(Self::from_backend(store))
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }
}

/// How a store waits and how durable its writes are. Every wait is bounded, so a database that is
/// down is answered at once with [`StoreError::Unavailable`] instead of holding requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// The longest a query waits for a pooled connection, opening a new one included.
    pub acquire_timeout: Duration,
    /// The longest one statement may run: PostgreSQL's `statement_timeout` (and, for a
    /// transaction left idle, `idle_in_transaction_session_timeout`), SQLite's busy timeout.
    pub statement_timeout: Duration,
    /// When SQLite acknowledges a write.
    pub sqlite_durability: SqliteDurability,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            acquire_timeout: Duration::from_secs(2),
            statement_timeout: Duration::from_secs(5),
            sqlite_durability: SqliteDurability::Full,
        }
    }
}

/// SQLite's `synchronous` setting in WAL mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SqliteDurability {
    /// `synchronous=FULL`: a write is on disk (fsync) before it is acknowledged, so a power
    /// loss cannot undo an acknowledged signup, session or logout.
    #[default]
    Full,
    /// `synchronous=NORMAL`: faster commits, but the last acknowledged transactions may be lost
    /// on power loss (not on a crash of the process). An explicit opt-in.
    Normal,
}
