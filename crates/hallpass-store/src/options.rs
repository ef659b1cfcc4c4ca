//! How a store waits and how durable its writes are.

use std::time::Duration;

/// How a store waits and how durable its writes are. Every wait is bounded, so a database that is
/// down is answered at once with [`crate::StoreError::Unavailable`] instead of holding requests.
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
