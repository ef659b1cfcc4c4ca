//! The real services tests may use beside SQLite: whether PostgreSQL and Redis are configured
//! (with `HALLPASS_TEST_REQUIRE_BACKENDS=1` a missing one fails instead of skipping), a fresh
//! PostgreSQL schema per test, a bus channel per test, and waiting for what another node does.

use sqlx::Executor;

/// Whether PostgreSQL tests run; with `HALLPASS_TEST_REQUIRE_BACKENDS=1` a missing URL fails.
pub(crate) fn postgres_available() -> bool {
    if std::env::var("HALLPASS_TEST_POSTGRES_URL").is_ok() {
        return true;
    }
    assert!(
        std::env::var("HALLPASS_TEST_REQUIRE_BACKENDS").as_deref() != Ok("1"),
        "HALLPASS_TEST_REQUIRE_BACKENDS=1 but HALLPASS_TEST_POSTGRES_URL is not set"
    );
    eprintln!("skipping: HALLPASS_TEST_POSTGRES_URL is not set");
    false
}

/// A fresh schema on the test PostgreSQL, as a URL whose connections use it.
pub(super) async fn postgres_schema_url() -> String {
    let base = std::env::var("HALLPASS_TEST_POSTGRES_URL").unwrap();
    let schema = format!("hp_api_{}", uuid::Uuid::new_v4().simple());
    let pool = sqlx::PgPool::connect(&base).await.unwrap();
    pool.execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .await
        .unwrap();
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}options=-c%20search_path%3D{schema}")
}

/// The test Redis, if configured; with `HALLPASS_TEST_REQUIRE_BACKENDS=1` a missing one fails.
pub(crate) fn redis_url() -> Option<String> {
    if let Ok(url) = std::env::var("HALLPASS_TEST_REDIS_URL") {
        return Some(url);
    }
    assert!(
        std::env::var("HALLPASS_TEST_REQUIRE_BACKENDS").as_deref() != Ok("1"),
        "HALLPASS_TEST_REQUIRE_BACKENDS=1 but HALLPASS_TEST_REDIS_URL is not set"
    );
    eprintln!("skipping: HALLPASS_TEST_REDIS_URL is not set");
    None
}

/// A revocation bus channel of the test's own, so parallel tests on one PostgreSQL or Redis do
/// not hear each other.
pub(crate) fn bus_channel() -> String {
    format!("hallpass_test_{}", uuid::Uuid::new_v4().simple())
}
/// Waits (bounded) for something another node or a background task makes true: bus delivery
/// is real I/O, not time the test could inject.
pub(crate) async fn eventually<F, Fut>(what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    eventually_within(what, std::time::Duration::from_secs(3), check).await;
}

/// Polls `check` every 10 ms until it holds; fails the test after `limit`.
pub(crate) async fn eventually_within<F, Fut>(what: &str, limit: std::time::Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + limit;
    while !check().await {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not within {limit:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
