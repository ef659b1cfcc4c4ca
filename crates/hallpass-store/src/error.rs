//! The storage layer's errors.

/// What can go wrong in a store. Constraint violations the domain cares about get their own
/// variants; everything else is the database's fault and keeps its source for the logs.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another account already has this username (compared case-insensitively).
    #[error("the username is taken")]
    UsernameTaken,
    /// This provider's subject is already linked to a user (perhaps the same one).
    #[error("the identity is linked already")]
    IdentityTaken,
    /// `max_sessions_per_user` is reached and the policy is to reject new sessions.
    #[error("the user has the most sessions allowed")]
    SessionLimitReached,
    /// A row holds a value this version cannot read.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The database URL names no backend hallpass has.
    #[error("database_url must start with sqlite: or postgres:")]
    UnsupportedUrl,
    /// The database failed or could not be reached.
    #[error("database error")]
    Database(#[source] sqlx::Error),
    /// The revocation bus could not publish.
    #[error("revocation bus: {0}")]
    Bus(String),
    /// Migrations could not be applied.
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::Database(db)
                if db.is_unique_violation() && db.message().contains("username") =>
            {
                Self::UsernameTaken
            }
            // The primary key `(provider, subject)`: SQLite names the table's columns,
            // PostgreSQL the constraint `identities_pkey`.
            sqlx::Error::Database(db)
                if db.is_unique_violation() && db.message().contains("identities") =>
            {
                Self::IdentityTaken
            }
            _ => Self::Database(error),
        }
    }
}
