//! The storage layer's errors.

/// What can go wrong in a store. Constraint violations the domain cares about get their own
/// variants; everything else is the database's fault and keeps its source for the logs.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another account already has this username (compared case-insensitively).
    #[error("the username is taken")]
    UsernameTaken,
    /// Another account already has this email address (compared as
    /// [`email_key`](hallpass_core::email::email_key) folds it).
    #[error("the email address is taken")]
    EmailTaken,
    /// This provider's subject is already linked to a user (perhaps the same one).
    #[error("the identity is linked already")]
    IdentityTaken,
    /// `max_sessions_per_user` is reached and the policy is to reject new sessions.
    #[error("the user has the most sessions allowed")]
    SessionLimitReached,
    /// Refused and nothing changed: the update or deletion would leave no enabled administrator.
    #[error("this would leave no enabled administrator")]
    LastAdministrator,
    /// A row holds a value this version cannot read.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The database URL names no backend hallpass has.
    #[error("database_url must start with sqlite: or postgres:")]
    UnsupportedUrl,
    /// The database could not be reached or could not take the write right now (connection
    /// refused or lost, pool exhausted past its acquire timeout, server shutting down, disk full,
    /// locked, statement timeout). Worth retrying later; answered 503 `store_unavailable`. A
    /// write that failed this way may or may not have committed.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// A store call took longer than the caller would wait.
    #[error("the database did not answer in time")]
    TimedOut,
    /// The database failed in a way a retry will not fix (a bug or a schema mismatch).
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
            // The unique index `users_email_key` (migration 0009), which both backends name
            // (SQLite names the index, not a column, when it is on an expression). A violation
            // names one index only, whichever the database checked first, so when the username
            // is taken too the insert looks that up after the failure (UsernameTaken wins).
            sqlx::Error::Database(db)
                if db.is_unique_violation() && db.message().contains("users_email_key") =>
            {
                Self::EmailTaken
            }
            // The primary key `(provider, subject)`: SQLite names the table's columns,
            // PostgreSQL the constraint `identities_pkey`.
            sqlx::Error::Database(db)
                if db.is_unique_violation() && db.message().contains("identities") =>
            {
                Self::IdentityTaken
            }
            _ if is_unavailable(&error) => Self::Unavailable(error),
            _ => Self::Database(error),
        }
    }
}

impl StoreError {
    /// Whether the database was unreachable or out of capacity (a retry later may succeed).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::TimedOut)
    }

    /// Whether a connection broke under the call (as when the database restarts): an
    /// idempotent read may be retried at once on a fresh one. Not a pool timeout: waiting again
    /// would only double the wait.
    pub fn is_connection_lost(&self) -> bool {
        match self {
            Self::Unavailable(error) => {
                !matches!(error, sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed)
            }
            _ => false,
        }
    }
}

/// Transient failures of the database or the way to it, as opposed to bugs.
fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => {
            if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                transient_postgres(pg.code())
            } else if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                db.code()
                    .and_then(|code| code.parse::<u32>().ok())
                    .is_some_and(transient_sqlite)
            } else {
                false
            }
        }
        _ => false,
    }
}

/// PostgreSQL SQLSTATEs that mean "not now" rather than "never": class 08 connection
/// exception, 53 insufficient resources (53100 disk full), 57 operator intervention (57P01
/// admin shutdown, 57014 statement timeout), 40001/40P01 serialization failure and deadlock,
/// 25P02 a transaction aborted earlier.
fn transient_postgres(code: &str) -> bool {
    ["08", "53", "57"]
        .iter()
        .any(|class| code.starts_with(class))
        || ["40001", "40P01", "25P02"].contains(&code)
}

/// SQLite (extended) result codes whose low byte is 5 BUSY, 6 LOCKED, 10 IOERR, 13 FULL or
/// 14 CANTOPEN.
fn transient_sqlite(code: u32) -> bool {
    matches!(code & 0xff, 5 | 6 | 10 | 13 | 14)
}
