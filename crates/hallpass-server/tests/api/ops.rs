use reqwest::{StatusCode, header};

use crate::helpers::{Backend, METRICS_TOKEN, problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert!(health.headers().contains_key("x-request-id"));
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
}

#[tokio::test]
async fn metrics_count_requests_logins_and_sessions() {
    let app = spawn_app().await;
    app.signup("alice").await;
    app.login("alice").await;
    app.login("alice").await;
    app.try_login("alice", "wrong wrong wrong").await;
    app.client.get(app.url("/v1/me")).send().await.unwrap();
    let text = app.metrics().await;
    let has = |line: &str| text.lines().any(|l| l == line);
    assert!(has("hallpass_logins_total{result=\"ok\"} 2"), "{text}");
    assert!(has("hallpass_logins_total{result=\"failed\"} 1"), "{text}");
    assert!(has("hallpass_active_sessions 2"), "{text}");
    assert!(
        has("hallpass_http_requests_total{route=\"/v1/login\",method=\"POST\",status=\"200\"} 2"),
        "{text}"
    );
    assert!(
        has("hallpass_http_requests_total{route=\"/v1/me\",method=\"GET\",status=\"401\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("hallpass_http_request_duration_seconds_bucket{le="),
        "{text}"
    );
}

#[tokio::test]
async fn unknown_routes_are_problem_json_404() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/nope")).send().await.unwrap();
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    problem(response, StatusCode::NOT_FOUND, "not_found").await;
}

/// `/metrics` on the public listener, with `authorization` if given.
async fn public_metrics(
    app: &crate::helpers::TestApp,
    authorization: &[&str],
) -> reqwest::Response {
    let mut request = app.client.get(app.url("/metrics"));
    for value in authorization {
        request = request.header(header::AUTHORIZATION, *value);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn without_a_token_or_a_listener_metrics_are_not_served() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.metrics_token = None).await;
    let bearer = format!("Bearer {METRICS_TOKEN}");
    for authorization in [&[][..], &[bearer.as_str()]] {
        problem(
            public_metrics(&app, authorization).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test]
async fn public_metrics_need_the_operators_token() {
    let app = spawn_app().await;
    let right = format!("Bearer {METRICS_TOKEN}");
    let wrong = format!("Bearer {METRICS_TOKEN}x");
    let lower = format!("bearer {METRICS_TOKEN}");
    for authorization in [
        &[][..],
        &[wrong.as_str()],
        &[lower.as_str()],
        &[METRICS_TOKEN],
        &["Bearer "],
        &[right.as_str(), right.as_str()],
    ] {
        let response = public_metrics(&app, authorization).await;
        problem(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    }
    let response = public_metrics(&app, &[right.as_str()]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("hallpass_http_requests_total")
    );
}

#[tokio::test]
async fn the_operations_listener_serves_metrics_and_health_only() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.metrics_token = None;
        s.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let ops = app.ops_addr.expect("an operations listener");
    assert_ne!(ops, app.addr);
    let get = |path: &str| app.client.get(format!("http://{ops}{path}")).send();
    let metrics = get("/metrics").await.unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    assert!(
        metrics
            .text()
            .await
            .unwrap()
            .contains("hallpass_active_sessions 0")
    );
    assert_eq!(get("/healthz").await.unwrap().status(), StatusCode::OK);
    assert_eq!(get("/readyz").await.unwrap().status(), StatusCode::OK);
    for path in [
        "/v1/me",
        "/login",
        "/v1/revocations",
        "/.well-known/jwks.json",
    ] {
        assert_eq!(
            get(path).await.unwrap().status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // And the public listener does not serve metrics at all.
    problem(
        public_metrics(&app, &[]).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn the_revocation_feed_is_public_unless_a_token_is_set() {
    let open = spawn_app().await;
    let response = open
        .client
        .get(open.url("/v1/revocations"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    const FEED_TOKEN: &str = "feed-token-for-resource-servers-0123456789";
    let closed = spawn_app_with(Backend::Sqlite, |s| {
        s.revocation_feed_token = Some(FEED_TOKEN.into());
    })
    .await;
    for request in [
        closed.client.get(closed.url("/v1/revocations")),
        closed
            .client
            .get(closed.url("/v1/revocations?since=nonsense")),
        closed
            .client
            .get(closed.url("/v1/revocations"))
            .bearer_auth("nope"),
        closed
            .client
            .get(closed.url("/v1/revocations"))
            .bearer_auth(METRICS_TOKEN),
    ] {
        let response = request.send().await.unwrap();
        problem(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    }
    let response = closed
        .client
        .get(closed.url("/v1/revocations"))
        .bearer_auth(FEED_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
