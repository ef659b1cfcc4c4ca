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

use std::sync::Arc;

pub use cache::SessionCache;
pub use error::StoreError;
pub use revoked::{RevokedSessions, SessionWatch};
pub use traits::{
    AuditQuery, AuditRecord, AuditStore, HealthCheck, IdentityStore, KeyStore, PostQuery,
    PostStore, SessionStore, StoredKey, UnlinkOutcome, UserQuery, UserStore, UserUpdate,
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
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            let store = sqlite::SqliteStore::connect(url).await?;
            store.migrate().await?;
            Ok(Self::from_backend(store))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let store = postgres::PostgresStore::connect(url).await?;
            store.migrate().await?;
            Ok(Self::from_backend(store))
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }
}
