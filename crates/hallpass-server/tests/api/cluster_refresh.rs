//! Refresh chains across nodes: a single-page app behind a round-robin balancer refreshes on
//! whichever node it reaches, and a node whose clock is wrong cannot stretch the grace window.

use std::{sync::Arc, time::Duration};

use hallpass_core::{audit::AuditKind, clock::ManualClock};
use hallpass_store::AuditQuery;
use reqwest::StatusCode;
use time::OffsetDateTime;

use crate::helpers::{
    Backend, TestApp, bus_channel, oauth_error, postgres_available, redis_url, spawn_app_with,
    tokens_from,
};

async fn reuse_events(app: &TestApp) -> usize {
    let query = AuditQuery {
        kind: Some(AuditKind::RefreshReuseDetected),
        limit: 100,
        ..AuditQuery::default()
    };
    app.state
        .stores
        .audit
        .list_audit(&query)
        .await
        .unwrap()
        .len()
}

/// Ten refreshes alternating A, B, A, … with no time passing (every node's cache is warm and
/// holds an older generation than the store): each succeeds, the session stays alive, and no
/// reuse is recorded.
async fn alternating_refreshes_never_log_out(a: TestApp) {
    let b = a.another_node().await;
    a.signup("alice").await;
    let mut tokens = a.tokens("alice").await;
    // Both nodes cache the session at generation 0.
    assert_eq!(b.bearer_me(&tokens.access).await, StatusCode::OK);
    assert_eq!(a.bearer_me(&tokens.access).await, StatusCode::OK);
    for i in 0..10 {
        let (node, other) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let response = node.refresh(&tokens.refresh).await;
        assert_eq!(response.status(), StatusCode::OK, "refresh {i}");
        tokens = tokens_from(response).await;
        // The other node serves the new access token (and refreshes its cached copy).
        assert_eq!(other.bearer_me(&tokens.access).await, StatusCode::OK, "{i}");
    }
    assert_eq!(a.bearer_me(&tokens.access).await, StatusCode::OK);
    assert_eq!(b.bearer_me(&tokens.access).await, StatusCode::OK);
    assert_eq!(reuse_events(&a).await, 0, "no false theft");
}

#[tokio::test]
async fn alternating_nodes_over_postgres_listen_notify() {
    if !postgres_available() {
        return;
    }
    let a = spawn_app_with(Backend::Postgres, |s| s.bus_channel = bus_channel()).await;
    alternating_refreshes_never_log_out(a).await;
}

#[tokio::test]
async fn alternating_nodes_over_redis() {
    let (Some(redis), true) = (redis_url(), postgres_available()) else {
        return;
    };
    let a = spawn_app_with(Backend::Postgres, |s| {
        s.redis_url = Some(redis);
        s.bus_channel = bus_channel();
    })
    .await;
    alternating_refreshes_never_log_out(a).await;
}

#[tokio::test]
async fn alternating_nodes_on_sqlite() {
    let a = spawn_app_with(Backend::Sqlite, |_| {}).await;
    alternating_refreshes_never_log_out(a).await;
}

/// Node A's clock runs 120 s fast, so the rotation time it writes lies in B's future. B must
/// still end the grace window one (database-clock) second after the rotation. This test waits
/// for real: the window is measured on the database's clock, which no test can move.
async fn a_fast_clock_cannot_stretch_the_grace_window(b: TestApp) {
    let fast = Arc::new(ManualClock::new(
        OffsetDateTime::now_utc() + time::Duration::seconds(120),
    ));
    let a = b.node_with_clock(fast).await;
    // The fast node knows it: it compared its clock with the database's at start.
    let metrics = a.metrics().await;
    let offset: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("hallpass_clock_offset_seconds "))
        .expect("clock offset metric")
        .parse()
        .unwrap();
    assert!((offset - 120.0).abs() < 5.0, "offset {offset}");
    b.signup("alice").await;
    let first = b.tokens("alice").await;
    let rotated = a.refresh(&first.refresh).await;
    assert_eq!(rotated.status(), StatusCode::OK);
    let second = tokens_from(rotated).await;
    // Inside the window: the same successor, from either node.
    let replay = b.refresh(&first.refresh).await;
    assert_eq!(replay.status(), StatusCode::OK);
    assert_eq!(tokens_from(replay).await.refresh, second.refresh);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let late = b.refresh(&first.refresh).await;
    oauth_error(late, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert_eq!(reuse_events(&b).await, 1, "a late replay is theft");
}

#[tokio::test]
async fn skewed_writer_on_sqlite() {
    let b = spawn_app_with(Backend::Sqlite, |s| {
        s.refresh_grace = "1s".parse().unwrap();
    })
    .await;
    a_fast_clock_cannot_stretch_the_grace_window(b).await;
}

#[tokio::test]
async fn skewed_writer_on_postgres() {
    if !postgres_available() {
        return;
    }
    let b = spawn_app_with(Backend::Postgres, |s| {
        s.refresh_grace = "1s".parse().unwrap();
        s.bus_channel = bus_channel();
    })
    .await;
    a_fast_clock_cannot_stretch_the_grace_window(b).await;
}
