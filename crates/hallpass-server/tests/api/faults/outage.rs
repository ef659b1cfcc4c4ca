//! The database stopped under load, alone and together with Redis: sessions a node holds keep
//! working from memory, everything that needs the database is answered 503 at once, and all
//! recovers within seconds of its return.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};

use super::{PrivatePostgres, PrivateRedis, faults_enabled};
use crate::helpers::{
    Backend, PASSWORD, TestApp, bus_channel, eventually_within, oauth_error, problem,
    spawn_app_with,
};

/// How long the database stays down (the scenario: 30 s).
const OUTAGE: Duration = Duration::from_secs(30);
/// The slowest a warm request may be answered during the outage.
const WARM_BOUND: Duration = Duration::from_secs(1);

async fn node_on(database: &str, redis: Option<String>) -> TestApp {
    let channel = bus_channel();
    spawn_app_with(Backend::Sqlite, |s| {
        s.database_url = database.to_owned();
        s.redis_url = redis;
        s.bus_channel = channel;
        s.reconcile_interval = "1s".parse().unwrap();
    })
    .await
}

async fn timed<F: Future>(future: F) -> (F::Output, Duration) {
    let started = Instant::now();
    let output = future.await;
    (output, started.elapsed())
}

async fn login_status(app: &TestApp) -> StatusCode {
    app.try_login("alice", PASSWORD).await.status()
}

async fn ready(app: &TestApp) -> StatusCode {
    app.client
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .status()
}

/// A warm request slower than this waited on the database; at most one request per second may
/// (the one that probes whether the database is back).
const SLOW: Duration = Duration::from_millis(300);

/// Warm cookie, Bearer and forward-auth requests, sent together, answered 200 each within
/// [`WARM_BOUND`] for `how_long`, with the nodes' clocks moving along so their cached copies age
/// past `session_cache_ttl`; only about one request a second may wait on the database.
async fn warm_requests_hold(
    nodes: &[&TestApp],
    login: &crate::helpers::Login,
    access: &str,
    how_long: Duration,
) -> Duration {
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    let mut slow = 0_u32;
    while started.elapsed() < how_long {
        for node in nodes {
            node.clock.advance(time::Duration::milliseconds(250));
            let forward_auth = async {
                node.client
                    .get(node.url("/v1/auth/check"))
                    .header("cookie", &login.cookie)
                    .send()
                    .await
                    .unwrap()
                    .status()
            };
            let ((cookie, a), (bearer, b), (check, c)) = tokio::join!(
                timed(node.me(login)),
                timed(node.bearer_me(access)),
                timed(forward_auth),
            );
            let at = started.elapsed();
            assert_eq!(cookie, StatusCode::OK, "cookie /v1/me at {at:?}");
            assert_eq!(bearer, StatusCode::OK, "Bearer /v1/me at {at:?}");
            assert_eq!(check, StatusCode::OK, "forward auth at {at:?}");
            for took in [a, b, c] {
                slowest = slowest.max(took);
                slow += u32::from(took > SLOW);
            }
        }
        assert!(slowest < WARM_BOUND, "a warm request took {slowest:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let seconds = u32::try_from(started.elapsed().as_secs()).unwrap();
    let allowed = (seconds + 1) * u32::try_from(nodes.len()).unwrap();
    assert!(
        slow <= allowed,
        "{slow} warm requests waited on the database in {seconds} s (at most {allowed})"
    );
    slowest
}

/// Everything that needs the database fails fast and clearly.
async fn store_needs_fail_fast(app: &TestApp, refresh: &str) {
    let (response, took) = timed(app.try_login("alice", PASSWORD)).await;
    assert!(took < Duration::from_secs(3), "login took {took:?}");
    let body = problem(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "store_unavailable",
    )
    .await;
    assert!(body["detail"].as_str().is_some());
    let (response, took) = timed(app.refresh(refresh)).await;
    assert!(took < Duration::from_secs(3), "refresh took {took:?}");
    assert!(response.headers().contains_key("retry-after"));
    oauth_error(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
    )
    .await;
    let (status, took) = timed(ready(app)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(took < Duration::from_millis(1500), "readyz took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_sessions_survive_a_postgres_outage() {
    if !faults_enabled() {
        return;
    }
    let postgres = PrivatePostgres::start();
    let app = node_on(&postgres.url(), None).await;
    app.signup("alice").await;
    let login = app.login("alice").await;
    let tokens = app.tokens("alice").await;
    assert_eq!(app.me(&login).await, StatusCode::OK);
    assert_eq!(app.bearer_me(&tokens.access).await, StatusCode::OK);

    tokio::task::block_in_place(|| postgres.down());
    store_needs_fail_fast(&app, &tokens.refresh).await;
    let slowest = warm_requests_hold(&[&app], &login, &tokens.access, OUTAGE).await;
    eprintln!("slowest warm request during the outage: {slowest:?}");
    store_needs_fail_fast(&app, &tokens.refresh).await;

    tokio::task::block_in_place(|| postgres.up());
    let back = Instant::now();
    eventually_within("logins work again", Duration::from_secs(5), || async {
        login_status(&app).await == StatusCode::OK
    })
    .await;
    eprintln!("logins back {:?} after the database", back.elapsed());
    let refreshed = app.refresh(&tokens.refresh).await;
    assert_eq!(
        refreshed.status(),
        StatusCode::OK,
        "refresh after the outage"
    );
    eventually_within("ready again", Duration::from_secs(10), || async {
        ready(&app).await == StatusCode::OK
    })
    .await;
    assert_eq!(app.me(&login).await, StatusCode::OK);
}

/// PostgreSQL and Redis down together: warm sessions still answer from memory on every node
/// (no revocation can be made meanwhile: revocations are written to the database first);
/// afterwards the bus is back and a revocation on one node reaches the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_and_redis_down_together() {
    if !faults_enabled() {
        return;
    }
    let postgres = PrivatePostgres::start();
    let mut redis = PrivateRedis::start();
    let a = node_on(&postgres.url(), Some(redis.url())).await;
    let b = a.another_node().await;
    a.signup("alice").await;
    let login = a.login("alice").await;
    let tokens = a.tokens("alice").await;
    for node in [&a, &b] {
        assert_eq!(node.me(&login).await, StatusCode::OK);
        assert_eq!(node.bearer_me(&tokens.access).await, StatusCode::OK);
    }

    tokio::task::block_in_place(|| {
        postgres.down();
        redis.down();
    });
    store_needs_fail_fast(&b, &tokens.refresh).await;
    warm_requests_hold(&[&a, &b], &login, &tokens.access, Duration::from_secs(10)).await;

    tokio::task::block_in_place(|| {
        postgres.up();
        redis.up();
    });
    eventually_within("logins work again", Duration::from_secs(5), || async {
        login_status(&a).await == StatusCode::OK
    })
    .await;
    let logout = b.write(Method::POST, "/v1/logout", &login, None).await;
    assert_eq!(logout.status(), StatusCode::OK);
    eventually_within(
        "the revocation reaches the other node",
        Duration::from_secs(3),
        || async { a.me(&login).await == StatusCode::UNAUTHORIZED },
    )
    .await;
}

/// A PostgreSQL restart under load: logins, refreshes and warm requests race the restart; none
/// is answered 500 (a write cut off by it is 503 `store_unavailable`, which a client may retry),
/// warm requests stay 200, and everything works once the database is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_under_load_gives_no_500() {
    if !faults_enabled() {
        return;
    }
    let postgres = std::sync::Arc::new(PrivatePostgres::start());
    let app = node_on(&postgres.url(), None).await;
    app.signup("alice").await;
    let login = app.login("alice").await;
    let mut refresh = app.tokens("alice").await.refresh;
    let restart = {
        let postgres = std::sync::Arc::clone(&postgres);
        tokio::task::spawn_blocking(move || {
            std::thread::sleep(Duration::from_millis(300));
            postgres.down();
            postgres.up();
        })
    };
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    while !restart.is_finished() {
        app.clock.advance(time::Duration::milliseconds(200));
        assert_eq!(app.me(&login).await, StatusCode::OK, "warm cookie request");
        let status = login_status(&app).await;
        *statuses.entry(status.as_u16()).or_default() += 1;
        let response = app.refresh(&refresh).await;
        let status = response.status();
        *statuses.entry(status.as_u16()).or_default() += 1;
        if status == StatusCode::OK {
            refresh = crate::helpers::tokens_from(response).await.refresh;
        }
    }
    restart.await.unwrap();
    eprintln!("answers during the restart: {statuses:?}");
    assert!(!statuses.contains_key(&500), "{statuses:?}");
    assert!(
        statuses.keys().all(|s| [200, 503].contains(s)),
        "{statuses:?}"
    );
    eventually_within("logins work again", Duration::from_secs(5), || async {
        login_status(&app).await == StatusCode::OK
    })
    .await;
    let again = app.refresh(&refresh).await;
    assert_eq!(
        again.status(),
        StatusCode::OK,
        "the refresh chain survived the restart"
    );
}
