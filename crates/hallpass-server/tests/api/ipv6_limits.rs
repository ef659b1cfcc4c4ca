//! Per-address limits count an IPv6 client by its network (`rate_limit.ipv6_prefix`, a /64 by
//! default): a client picking a fresh interface id for every attempt gets no more attempts.

use reqwest::{Response, StatusCode};
use serde_json::json;

use crate::helpers::{Backend, TestApp, spawn_app_with};

/// A proxy-fronted server allowing 30 attempts a minute per client.
async fn behind_a_proxy() -> TestApp {
    spawn_app_with(Backend::Sqlite, |s| {
        s.trusted_proxies = vec!["127.0.0.1".to_owned()];
        s.rate_limit.per_ip_per_minute = 30;
    })
    .await
}

/// A failed login for a distinct unknown account (so no account lockout interferes), from
/// `client` as the trusted proxy reports it.
async fn attempt(app: &TestApp, client: &str, n: usize) -> Response {
    app.client
        .post(app.url("/v1/login"))
        .header("x-forwarded-for", client)
        .json(&json!({ "username": format!("nobody{n}"), "password": "wrong wrong wrong" }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn addresses_in_one_ipv6_network_share_one_budget() {
    let app = behind_a_proxy().await;
    let mut statuses = Vec::new();
    for n in 0..40 {
        let client = format!("2001:db8:1:2:{n:x}:{:x}::1", (n * 7919) % 0xffff);
        statuses.push(attempt(&app, &client, n).await.status());
    }
    assert!(
        statuses[..30]
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert!(
        statuses[30..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    // The next /64 is someone else.
    assert_eq!(
        attempt(&app, "2001:db8:1:3::1", 40).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_ipv6_prefix_is_a_setting() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.trusted_proxies = vec!["127.0.0.1".to_owned()];
        s.rate_limit.per_ip_per_minute = 2;
        s.rate_limit.ipv6_prefix = 128.try_into().unwrap();
    })
    .await;
    for n in 0..5 {
        let client = format!("2001:db8:1:2::{n:x}");
        assert_eq!(
            attempt(&app, &client, n).await.status(),
            StatusCode::UNAUTHORIZED,
            "{client}"
        );
    }
}

#[tokio::test]
async fn ipv4_clients_keep_a_budget_each_and_mapped_ipv4_counts_as_ipv4() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.trusted_proxies = vec!["127.0.0.1".to_owned()];
        s.rate_limit.per_ip_per_minute = 2;
    })
    .await;
    assert_eq!(
        attempt(&app, "203.0.113.7", 0).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        attempt(&app, "::ffff:203.0.113.7", 1).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        attempt(&app, "203.0.113.7", 2).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Neighbouring IPv4 addresses are not grouped.
    assert_eq!(
        attempt(&app, "203.0.113.8", 3).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// A client connecting over IPv6 itself (no proxy) is counted by its network too, and an
/// `X-Forwarded-For` it sends is not believed. (Loopback has a single IPv6 address, so this
/// cannot rotate the interface id; the unit tests of `ClientKey` and the connection cap do.)
#[tokio::test]
async fn a_direct_ipv6_peer_is_limited_and_cannot_claim_another_address() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.listen = "[::1]:0".parse().unwrap();
        s.rate_limit.per_ip_per_minute = 2;
    })
    .await;
    assert!(app.addr.is_ipv6());
    for (n, claimed) in ["2001:db8:9::1", "2001:db8:9::2"].into_iter().enumerate() {
        assert_eq!(
            attempt(&app, claimed, n).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        attempt(&app, "2001:db8:a::1", 2).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}
