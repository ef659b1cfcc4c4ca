//! Every real difference between the SQLite and PostgreSQL queries, each with its reason.
//!
//! The queries in [`crate::sql`] are written once, with `$N` placeholders (sqlx binds `$N` by
//! number on SQLite too, and a repeated `$N` is one parameter on both). Where the two databases
//! truly differ, a query calls `dialect::…` and each backend's module below answers:
//!
//! | what | SQLite | PostgreSQL | why |
//! |---|---|---|---|
//! | [`sqlite::begin_write`] | `BEGIN IMMEDIATE` | `BEGIN` (then row or advisory locks) | SQLite has one writer: taking its lock first serialises the check and the write, where a deferred transaction's upgrade fails with `SQLITE_BUSY` instead of waiting. PostgreSQL runs READ COMMITTED and locks only what must be serialised. |
//! | [`sqlite::lock_user`], `for_update!` | nothing | `SELECT … FOR UPDATE` / `FOR NO KEY UPDATE` | The user's row serialises that user's logins, unlinks and account changes on PostgreSQL; SQLite already holds the database's write lock. |
//! | [`sqlite::advisory_lock`] | nothing | `pg_advisory_xact_lock(hashtext(…))` | "Is there a first signing key?" and "is there another administrator?" read rows that a concurrent transaction may be about to add or change; READ COMMITTED would let both proceed (write skew). SQLite's single writer already orders them. |
//! | [`sqlite::revoke_sessions`] | one `UPDATE` per id | one `UPDATE … WHERE id = ANY($2)` | SQLite has no array parameters. |
//! | `param!` | `$1` | `$1::text` | A parameter used only in `$1 IS NULL` needs a declared type on PostgreSQL; SQLite parameters are untyped. |
//! | `position!` | `instr(h, n)` | `strpos(h, n)` | The same function, named differently. |
//! | `greatest!` | `max(a, b)` | `GREATEST(a, b)` | SQLite's scalar `max` with two arguments; PostgreSQL's `max` is only an aggregate. |
//! | `ascii_lower!` | `lower(x)` | `translate(x, 'A…Z', 'a…z')` | The fold the server compares emails with (ASCII letters only), and the expression each migration's `users_email_key` indexes: PostgreSQL's `lower()` also folds non-ASCII letters by locale. |
//! | `bytewise!` | `x` | `x COLLATE "C"` | Bytewise ordering: SQLite's default BINARY collation is it, PostgreSQL's default follows the locale (and SQLite knows no collation "C"). |
//! | `skip_locked!` | nothing | `FOR UPDATE SKIP LOCKED` | Claiming mail: PostgreSQL claimers each lock the rows their `UPDATE … WHERE id IN (SELECT … LIMIT n …)` picks and pass over rows another claimer holds, so concurrent claimers on any node neither wait on one another nor get the same row. SQLite has no row locks (nor the clause): its single writer runs the whole statement as one step, so the next claimer's subquery already sees the claim. |
//! | `now_micros!` | `unixepoch('subsec')` | `clock_timestamp()` | The database's own clock (one clock every node shares), in unix microseconds. |
//! | connection options | `sqlite.rs` | `postgres.rs` | WAL, `synchronous`, busy timeout and foreign keys on SQLite; `statement_timeout` and `idle_in_transaction_session_timeout` on PostgreSQL. |
//!
//! No longer differences, so written once:
//! - boolean literals: SQLite (3.23 and later) reads `FALSE` and `NOT disabled` as 0 and a test of
//!   the integer column, so the queries write them as PostgreSQL does;
//! - the scalar type of `SELECT 1` (`i64` on SQLite, `i32` on PostgreSQL): the queries ask
//!   whether a row came back, and decode nothing;
//! - the table in an upsert's `DO UPDATE SET`: both accept it qualified
//!   (`user_token_watermarks.issued_before`), which PostgreSQL requires.

/// How strongly [`postgres::lock_user`] locks the user's row.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RowLock {
    /// `FOR UPDATE`: nothing else may lock, change or reference-check the row meanwhile.
    Update,
    /// `FOR NO KEY UPDATE`: as `Update`, but inserts that reference the user (a link) proceed.
    NoKeyUpdate,
}

/// The named locks of [`postgres::advisory_lock`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum AdvisoryLock {
    /// Held while a node checks for, and inserts, the first signing key.
    FirstSigningKey,
    /// Held while a change that removes an administrator counts the others.
    Administrators,
}

impl AdvisoryLock {
    /// The name hashed to the lock's key (unchanged, so every node version takes the same lock).
    fn name(self) -> &'static str {
        match self {
            Self::FirstSigningKey => "hallpass_signing_keys",
            Self::Administrators => "hallpass_administrators",
        }
    }
}

/// The SQLite side of each difference.
pub(crate) mod sqlite {
    use sqlx::{Pool, Transaction};
    use uuid::Uuid;

    use crate::sql::dialect::{AdvisoryLock, RowLock};

    /// The database.
    pub(crate) type Db = sqlx::Sqlite;

    /// The database's clock, in unix microseconds.
    macro_rules! now_micros {
        () => {
            "CAST(unixepoch('subsec') * 1000000 AS INTEGER)"
        };
    }
    pub(crate) use now_micros;

    /// Parameter `$n` where only its nullness is tested: untyped here.
    macro_rules! param {
        ($n:literal, $type:ident) => {
            concat!("$", $n)
        };
    }
    pub(crate) use param;

    /// The 1-based position of `needle` in `hay`, 0 if absent.
    macro_rules! position {
        ($hay:literal, $needle:literal) => {
            concat!("instr(", $hay, ", ", $needle, ")")
        };
    }
    pub(crate) use position;

    /// The larger of two values.
    macro_rules! greatest {
        ($a:literal, $b:literal) => {
            concat!("max(", $a, ", ", $b, ")")
        };
    }
    pub(crate) use greatest;

    /// `x` with ASCII letters folded to lower case: SQLite's `lower()` folds exactly those.
    macro_rules! ascii_lower {
        ($x:literal) => {
            concat!("lower(", $x, ")")
        };
    }
    pub(crate) use ascii_lower;

    /// `x`, ordered bytewise: the default BINARY collation already is.
    macro_rules! bytewise {
        ($x:literal) => {
            $x
        };
    }
    pub(crate) use bytewise;

    /// The row-lock clause for a read inside [`begin_write`]: none, the write lock is held.
    macro_rules! for_update {
        () => {
            ""
        };
    }
    pub(crate) use for_update;

    /// The lock clause of the subquery that picks mail to claim: none, the statement that
    /// claims is the only writer while it runs.
    macro_rules! skip_locked {
        () => {
            ""
        };
    }
    pub(crate) use skip_locked;

    /// Opens a transaction that takes the write lock up front (`BEGIN IMMEDIATE`), so its reads
    /// and writes are one step whatever other connection (or process on the file) writes.
    pub(crate) async fn begin_write(
        pool: &Pool<Db>,
    ) -> Result<Transaction<'static, Db>, sqlx::Error> {
        pool.begin_with("BEGIN IMMEDIATE").await
    }

    /// Nothing: the transaction from [`begin_write`] already excludes every other writer.
    #[allow(clippy::unused_async, reason = "the same signature as PostgreSQL's")]
    pub(crate) async fn lock_user(
        _tx: &mut Transaction<'_, Db>,
        _user: Uuid,
        _lock: RowLock,
    ) -> Result<(), sqlx::Error> {
        Ok(())
    }

    /// Nothing: SQLite's single writer already orders the transactions the lock would.
    #[allow(clippy::unused_async, reason = "the same signature as PostgreSQL's")]
    pub(crate) async fn advisory_lock(
        _tx: &mut Transaction<'_, Db>,
        _lock: AdvisoryLock,
    ) -> Result<(), sqlx::Error> {
        Ok(())
    }

    /// Marks the sessions `ids` revoked at `at` (unix microseconds), one statement each: SQLite
    /// takes no array parameter.
    pub(crate) async fn revoke_sessions(
        tx: &mut Transaction<'_, Db>,
        ids: &[Uuid],
        at: i64,
    ) -> Result<(), sqlx::Error> {
        for id in ids {
            sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2")
                .bind(at)
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}

/// The PostgreSQL side of each difference.
pub(crate) mod postgres {
    use sqlx::{Pool, Transaction};
    use uuid::Uuid;

    use crate::sql::dialect::{AdvisoryLock, RowLock};

    /// The database.
    pub(crate) type Db = sqlx::Postgres;

    /// The database's clock, in unix microseconds (`clock_timestamp()`, not the transaction's
    /// start time).
    macro_rules! now_micros {
        () => {
            "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint"
        };
    }
    pub(crate) use now_micros;

    /// Parameter `$n` where only its nullness is tested: PostgreSQL needs its type.
    macro_rules! param {
        ($n:literal, $type:ident) => {
            concat!("$", $n, "::", stringify!($type))
        };
    }
    pub(crate) use param;

    /// The 1-based position of `needle` in `hay`, 0 if absent.
    macro_rules! position {
        ($hay:literal, $needle:literal) => {
            concat!("strpos(", $hay, ", ", $needle, ")")
        };
    }
    pub(crate) use position;

    /// The larger of two values.
    macro_rules! greatest {
        ($a:literal, $b:literal) => {
            concat!("GREATEST(", $a, ", ", $b, ")")
        };
    }
    pub(crate) use greatest;

    /// `x` with ASCII letters folded to lower case, spelled out: `lower()` would fold others too.
    macro_rules! ascii_lower {
        ($x:literal) => {
            concat!(
                "translate(",
                $x,
                ", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
            )
        };
    }
    pub(crate) use ascii_lower;

    /// `x`, ordered bytewise: a locale collation would sort `a-b` and `ab` by other rules.
    macro_rules! bytewise {
        ($x:literal) => {
            concat!($x, " COLLATE \"C\"")
        };
    }
    pub(crate) use bytewise;

    /// The row-lock clause for a read inside [`begin_write`] that the change depends on.
    macro_rules! for_update {
        () => {
            " FOR UPDATE"
        };
    }
    pub(crate) use for_update;

    /// The lock clause of the subquery that picks mail to claim: lock the picked rows, and skip
    /// (rather than wait for) rows another claimer has locked.
    macro_rules! skip_locked {
        () => {
            " FOR UPDATE SKIP LOCKED"
        };
    }
    pub(crate) use skip_locked;

    /// Opens a READ COMMITTED transaction; [`lock_user`] and [`advisory_lock`] serialise what
    /// must be.
    pub(crate) async fn begin_write(
        pool: &Pool<Db>,
    ) -> Result<Transaction<'static, Db>, sqlx::Error> {
        pool.begin().await
    }

    /// Locks the user's row until the transaction ends, serialising this user's changes (and
    /// only theirs).
    pub(crate) async fn lock_user(
        tx: &mut Transaction<'_, Db>,
        user: Uuid,
        lock: RowLock,
    ) -> Result<(), sqlx::Error> {
        let sql = match lock {
            RowLock::Update => "SELECT 1 FROM users WHERE id = $1 FOR UPDATE",
            RowLock::NoKeyUpdate => "SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE",
        };
        sqlx::query(sql).bind(user).execute(&mut **tx).await?;
        Ok(())
    }

    /// Takes the named lock until the transaction ends: every node's transaction that takes it
    /// waits for the one before, then reads afresh (each statement sees what committed before).
    pub(crate) async fn advisory_lock(
        tx: &mut Transaction<'_, Db>,
        lock: AdvisoryLock,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(lock.name())
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Marks the sessions `ids` revoked at `at` (unix microseconds), in one statement.
    pub(crate) async fn revoke_sessions(
        tx: &mut Transaction<'_, Db>,
        ids: &[Uuid],
        at: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = ANY($2)")
            .bind(at)
            .bind(ids)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}
