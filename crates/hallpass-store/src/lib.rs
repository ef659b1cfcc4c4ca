//! hallpass storage: narrow traits the server depends on, with one implementation per backend.
//!
//! - SQLite: the embedded default (`sqlite://hallpass.db`).
//! - [`postgres::PostgresStore`]: for several nodes on one database (`postgres://…`).
//!
//! Both run the queries of `sql/`, each written once (the real dialect differences are named in
//! `sql/dialect.rs`), and pass the same conformance suite (`tests/store/`). Secrets never reach
//! this crate: it sees SHA-256 of session tokens and argon2 PHC strings of passwords.

pub mod bus;
mod cache;
mod email;
mod error;
mod factors;
mod options;
mod outbox;
pub mod postgres;
mod revoked;
mod sql;
mod sqlite;
mod stores;
mod traits;

pub use cache::{CachePolicy, SessionCache};
pub use email::{EmailStore, EmailTokenRecord, NewEmailToken};
pub use error::StoreError;
pub use factors::{Factor, FactorStore, MfaChallenge, NewFactor, NewMfaChallenge};
pub use options::{SqliteDurability, StoreOptions};
pub use outbox::{ClaimedMail, FailedMail, NewMail, OutboxCounts, OutboxStore};
pub use revoked::{RevokedSessions, SessionWatch};
pub use stores::Stores;
pub use traits::{
    AuditQuery, AuditRecord, AuditStore, HealthCheck, IdentityStore, KeyStore, PostQuery,
    PostStore, RefreshRead, SessionStore, StoredKey, UnlinkOutcome, UserQuery, UserRevocation,
    UserStore, UserUpdate,
};
