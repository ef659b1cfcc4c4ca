//! Fresh stores for each test.

use hallpass_store::{StoreOptions, Stores, postgres::PostgresStore};
use sqlx::{Executor, PgPool, SqlitePool, postgres::PgPoolOptions};
use tempfile::TempDir;

/// A store and whatever must live as long as it.
pub(crate) struct Backend {
    pub(crate) stores: Stores,
    /// The same database, for what the store's traits do not show (a mail's stored bodies).
    pub(crate) raw: Raw,
    _dir: Option<TempDir>,
}

/// A pool of the backend's own type on the test's database.
#[derive(Clone)]
pub(crate) enum Raw {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Raw {
    /// The first row's first two text columns of `sql`, with `id` bound as `$1`.
    pub(crate) async fn two_texts(&self, sql: &'static str, id: uuid::Uuid) -> (String, String) {
        match self {
            Self::Sqlite(pool) => sqlx::query_as(sql).bind(id).fetch_one(pool).await.unwrap(),
            Self::Postgres(pool) => sqlx::query_as(sql).bind(id).fetch_one(pool).await.unwrap(),
        }
    }
}

/// A migrated SQLite database in a temporary directory.
pub(crate) async fn sqlite() -> Backend {
    let (dir, url) = sqlite_file();
    let stores = Stores::open(&url, &StoreOptions::default()).await.unwrap();
    let raw = Raw::Sqlite(SqlitePool::connect(&url).await.unwrap());
    Backend {
        stores,
        raw,
        _dir: Some(dir),
    }
}

/// A temporary directory for a SQLite database, and the database's URL in it.
pub(crate) fn sqlite_file() -> (TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    (dir, url)
}

/// The same, behind the session cache (which must not change any observable behaviour).
pub(crate) async fn sqlite_cached() -> Backend {
    let Backend { stores, raw, _dir } = sqlite().await;
    let clock = std::sync::Arc::new(hallpass_core::clock::SystemClock);
    let (stores, _) = hallpass_store::SessionCache::wrap(
        stores,
        std::sync::Arc::new(hallpass_store::RevokedSessions::new(
            time::Duration::minutes(16),
        )),
        std::sync::Arc::new(hallpass_store::bus::InProcessBus),
        clock,
        hallpass_store::CachePolicy {
            max_age: time::Duration::minutes(1),
            capacity: 4,
            outage_grace: time::Duration::minutes(5),
        },
    );
    Backend { stores, raw, _dir }
}

/// A migrated PostgreSQL schema of this test's own, or `None` when no server is configured.
pub(crate) async fn postgres() -> Option<Backend> {
    let pool = postgres_schema().await?;
    let store = PostgresStore::from_pool(pool.clone());
    store.migrate().await.unwrap();
    Some(Backend {
        stores: Stores::from_backend(store),
        raw: Raw::Postgres(pool),
        _dir: None,
    })
}

/// A pool on an empty PostgreSQL schema of this test's own, or `None` when no server is
/// configured.
pub(crate) async fn postgres_schema() -> Option<PgPool> {
    let Ok(url) = std::env::var("HALLPASS_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("HALLPASS_TEST_REQUIRE_BACKENDS").as_deref() != Ok("1"),
            "HALLPASS_TEST_REQUIRE_BACKENDS=1 but HALLPASS_TEST_POSTGRES_URL is not set"
        );
        eprintln!("skipping: HALLPASS_TEST_POSTGRES_URL is not set");
        return None;
    };
    let schema = format!("hp_test_{}", uuid::Uuid::new_v4().simple());
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .await
        .unwrap();
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .after_connect(move |conn, _| {
            let set = format!("SET search_path TO {schema}");
            Box::pin(async move {
                conn.execute(sqlx::AssertSqlSafe(set)).await?;
                Ok(())
            })
        })
        .connect(&url)
        .await
        .unwrap();
    Some(pool)
}
