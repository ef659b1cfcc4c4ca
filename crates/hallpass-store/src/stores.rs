//! [`Stores`]: the traits the server holds, and opening them from a database URL.

use std::sync::Arc;

use crate::{
    email::EmailStore,
    error::StoreError,
    factors::FactorStore,
    options::StoreOptions,
    outbox::OutboxStore,
    postgres::PostgresStore,
    sqlite::SqliteStore,
    traits::{
        AuditStore, HealthCheck, IdentityStore, KeyStore, PostStore, SessionStore, UserStore,
    },
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
    /// Emailed tokens.
    pub email: Arc<dyn EmailStore>,
    /// The mail outbox.
    pub outbox: Arc<dyn OutboxStore>,
    /// Second factors, recovery codes, login challenges.
    pub factors: Arc<dyn FactorStore>,
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
            + EmailStore
            + OutboxStore
            + FactorStore
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
            email: backend.clone(),
            outbox: backend.clone(),
            factors: backend.clone(),
            health: backend,
        }
    }

    /// Opens the database `url` names (`sqlite://…` or `postgres://…`), creating a SQLite file if
    /// needed, and applies pending migrations (under a lock on PostgreSQL, so nodes may start together).
    pub async fn open(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            let store = SqliteStore::connect(url, options).await?;
            store.migrate().await?;
            Ok(Self::from_backend(store))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let store = PostgresStore::connect(url, options).await?;
            store.migrate().await?;
            Ok(Self::from_backend(store))
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }
}
