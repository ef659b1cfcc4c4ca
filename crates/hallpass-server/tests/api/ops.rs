use reqwest::{StatusCode, header};

use crate::helpers::{problem, spawn_app};

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
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
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
