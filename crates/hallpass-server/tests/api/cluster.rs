//! Several nodes on one store: sessions and tokens work on any node, and a revocation made on
//! one reaches the others at once over the bus (PostgreSQL LISTEN/NOTIFY or Redis), or within
//! the reconcile interval when no bus carries it.

use reqwest::{Method, StatusCode};

use crate::helpers::{
    Backend, ClockReading, TestApp, bus_channel, eventually, postgres_available, redis_url,
    spawn_app_with,
};

async fn revocation_reaches_the_other_node_at_once(a: TestApp) {
    let b = a.another_node().await;
    a.signup("alice").await;
    let cookie = a.login("alice").await;
    let tokens = a.tokens("alice").await;
    // Logged in on A, used on B (and cached on both).
    assert_eq!(b.me(&cookie).await, StatusCode::OK);
    assert_eq!(b.bearer_me(&tokens.access).await, StatusCode::OK);
    assert_eq!(a.bearer_me(&tokens.access).await, StatusCode::OK);
    assert_eq!(a.me(&cookie).await, StatusCode::OK);
    // Revoked on B: A refuses without waiting for its cache to age (the clock does not move).
    assert_eq!(
        b.bearer(Method::POST, "/v1/logout", &tokens.access)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        b.write(Method::POST, "/v1/logout", &cookie, None)
            .await
            .status(),
        StatusCode::OK
    );
    eventually("the Bearer revocation reaches A", || async {
        a.bearer_me(&tokens.access).await == StatusCode::UNAUTHORIZED
    })
    .await;
    eventually("the cookie revocation reaches A", || async {
        a.me(&cookie).await == StatusCode::UNAUTHORIZED
    })
    .await;
    // A user change made on B reaches A's cache too.
    let admin = b.admin("root").await;
    let again = a.tokens("alice").await;
    assert_eq!(a.bearer_me(&again.access).await, StatusCode::OK);
    let id = a
        .bearer(Method::GET, "/v1/me", &again.access)
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let disable = b
        .write(
            Method::PATCH,
            &format!("/v1/admin/users/{id}"),
            &admin,
            Some(serde_json::json!({"disabled": true})),
        )
        .await;
    assert_eq!(disable.status(), StatusCode::OK);
    eventually("disabling reaches A", || async {
        a.bearer_me(&again.access).await == StatusCode::UNAUTHORIZED
    })
    .await;
}

#[tokio::test]
async fn over_postgres_listen_notify() {
    if !postgres_available() {
        return;
    }
    let a = spawn_app_with(Backend::Postgres, |s| s.bus_channel = bus_channel()).await;
    revocation_reaches_the_other_node_at_once(a).await;
}

#[tokio::test]
async fn over_redis_pub_sub() {
    let (Some(redis), true) = (redis_url(), postgres_available()) else {
        return;
    };
    let a = spawn_app_with(Backend::Postgres, |s| {
        s.redis_url = Some(redis);
        s.bus_channel = bus_channel();
    })
    .await;
    revocation_reaches_the_other_node_at_once(a).await;
}

/// With no bus between them (SQLite nodes), the reconcile interval still delivers: a lost
/// message delays a revocation by at most that interval.
#[tokio::test]
async fn without_a_bus_the_reconcile_interval_bounds_the_delay() {
    let a = spawn_app_with(Backend::Sqlite, |s| {
        s.reconcile_interval = "1s".parse().unwrap()
    })
    .await;
    let b = a.another_node().await;
    a.signup("alice").await;
    let tokens = a.tokens("alice").await;
    assert_eq!(a.bearer_me(&tokens.access).await, StatusCode::OK);
    b.bearer(Method::POST, "/v1/logout", &tokens.access).await;
    eventually("the reconcile carries the revocation to A", || async {
        a.bearer_me(&tokens.access).await == StatusCode::UNAUTHORIZED
    })
    .await;
}

/// A steady-state authenticated request, by cookie or Bearer, makes no store round trip.
#[tokio::test]
async fn steady_state_requests_make_no_store_round_trip() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.reconcile_interval = "1h".parse().unwrap()
    })
    .await;
    app.signup("alice").await;
    let cookie = app.login("alice").await;
    let tokens = app.tokens("alice").await;
    // Warm the caches.
    assert_eq!(app.me(&cookie).await, StatusCode::OK);
    assert_eq!(app.bearer_me(&tokens.access).await, StatusCode::OK);
    let before = app.state.node.cache.store_calls();
    for _ in 0..50 {
        assert_eq!(app.me(&cookie).await, StatusCode::OK);
        assert_eq!(app.bearer_me(&tokens.access).await, StatusCode::OK);
        assert_eq!(
            app.get_with("/v1/auth/check", &cookie.cookie)
                .await
                .status(),
            StatusCode::OK
        );
    }
    assert_eq!(
        app.state.node.cache.store_calls() - before,
        0,
        "150 requests, no store round trip"
    );
    let metrics = app.metrics().await;
    assert!(
        metrics
            .lines()
            .any(|l| l == format!("hallpass_store_calls {before}")),
        "{metrics}"
    );
    // The counter does count: a list is a read.
    app.get_with("/v1/sessions", &cookie.cookie).await;
    assert!(app.state.node.cache.store_calls() > before);
}

/// With Redis configured, the limits count attempts on every node together.
#[tokio::test]
async fn rate_limits_are_shared_through_redis() {
    let Some(redis) = redis_url() else { return };
    let prefix = format!("hallpass_test_{}:", uuid::Uuid::new_v4().simple());
    let a = spawn_app_with(Backend::Sqlite, |s| {
        s.redis_url = Some(redis);
        s.redis_key_prefix = prefix;
        s.rate_limit.per_ip_per_minute = 6;
    })
    .await;
    let b = a.another_node().await;
    a.signup("alice").await;
    for node in [&a, &b, &a, &b, &a] {
        assert_eq!(
            node.try_login("alice", "wrong wrong wrong").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Five failures spread over two nodes lock the account on both, even for the right password.
    assert_eq!(
        b.try_login("alice", crate::helpers::PASSWORD)
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        a.try_login("alice", crate::helpers::PASSWORD)
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the address is over its shared budget too"
    );
}

/// Redis unreachable: each node still counts on its own.
#[tokio::test]
async fn without_redis_each_node_still_limits() {
    let a = spawn_app_with(Backend::Sqlite, |s| {
        s.redis_url = Some("redis://127.0.0.1:1".to_owned())
    })
    .await;
    a.signup("alice").await;
    for _ in 0..5 {
        assert_eq!(
            a.try_login("alice", "wrong wrong wrong").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        a.try_login("alice", crate::helpers::PASSWORD)
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// A token signed with a key this node has not loaded yet (rotated on another node) makes it
/// re-read its keys instead of refusing the token.
#[tokio::test]
async fn a_key_made_on_another_node_is_picked_up_on_first_sight() {
    let a = spawn_app_with(Backend::Sqlite, |_| {}).await;
    let b = a.another_node().await;
    a.signup("alice").await;
    a.state
        .tokens
        .keyring
        .rotate(a.clock.now_for_tests())
        .await
        .unwrap();
    a.advance(time::Duration::hours(1));
    a.state
        .tokens
        .keyring
        .reload(a.clock.now_for_tests())
        .await
        .unwrap();
    let tokens = a.tokens("alice").await;
    assert_eq!(
        b.bearer_me(&tokens.access).await,
        StatusCode::OK,
        "B re-read its keys"
    );
}

/// Every way of ending many sessions at once (log out everywhere, a password change, an admin's
/// force logout, the session limit) is announced on the bus, not left to the reconcile.
#[tokio::test]
async fn bulk_revocations_reach_the_other_node_over_the_bus() {
    if !postgres_available() {
        return;
    }
    let a = spawn_app_with(Backend::Postgres, |s| {
        s.bus_channel = bus_channel();
        s.reconcile_interval = hallpass_server::config::ConfigDuration::hours(1);
        s.max_sessions_per_user = Some(2);
    })
    .await;
    let b = a.another_node().await;
    a.signup("alice").await;
    let admin = a.admin("root").await;

    // Session limit: a third login on A evicts the oldest, which B had cached. (The clock moves
    // between logins so that "oldest" is well defined.)
    let first = a.tokens("alice").await;
    a.advance(time::Duration::seconds(1));
    let _second = a.tokens("alice").await;
    a.advance(time::Duration::seconds(1));
    assert_eq!(b.bearer_me(&first.access).await, StatusCode::OK);
    let third = a.tokens("alice").await;
    eventually("an eviction reaches B", || async {
        b.bearer_me(&first.access).await == StatusCode::UNAUTHORIZED
    })
    .await;

    // Log out everywhere on A.
    assert_eq!(b.bearer_me(&third.access).await, StatusCode::OK);
    let everywhere = a
        .client
        .post(a.url("/v1/logout"))
        .bearer_auth(&third.access)
        .json(&serde_json::json!({ "scope": "global" }))
        .send()
        .await
        .unwrap();
    assert_eq!(everywhere.status(), StatusCode::OK);
    eventually("log out everywhere reaches B", || async {
        b.bearer_me(&third.access).await == StatusCode::UNAUTHORIZED
    })
    .await;

    // An admin's force logout on A.
    let again = a.tokens("alice").await;
    assert_eq!(b.bearer_me(&again.access).await, StatusCode::OK);
    let id = b
        .bearer(Method::GET, "/v1/me", &again.access)
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let forced = a
        .write(
            Method::POST,
            &format!("/v1/admin/users/{id}/logout"),
            &admin,
            None,
        )
        .await;
    assert_eq!(forced.status(), StatusCode::NO_CONTENT);
    eventually("a force logout reaches B", || async {
        b.bearer_me(&again.access).await == StatusCode::UNAUTHORIZED
    })
    .await;
}
