//! Bearer authentication (RFC 6750), forward auth and the verified-token cache.

use reqwest::{Method, StatusCode, header};
use serde_json::json;
use time::Duration;

use crate::helpers::{TestApp, spawn_app};

async fn challenge(app: &TestApp, authorization: &str) -> (StatusCode, String) {
    let response = app
        .client
        .get(app.url("/v1/me"))
        .header(header::AUTHORIZATION, authorization)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let www = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, www)
}

#[tokio::test]
async fn bearer_failures_answer_401_invalid_token() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let tokens = app.tokens("alice").await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let (status, _) = challenge(&app, &format!("{scheme} {}", tokens.access)).await;
        assert_eq!(status, StatusCode::OK, "{scheme}");
    }
    let (status, www) = challenge(&app, "Bearer not.a.token").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        www.starts_with("Bearer error=\"invalid_token\", error_description=\""),
        "{www}"
    );
    let (status, www) = challenge(&app, &format!("Bearer {}", "a".repeat(9000))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(www.contains("too large"), "{www}");
    let (status, _) = challenge(&app, &format!("Basic {}", tokens.access)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.advance(Duration::minutes(15) + Duration::seconds(30));
    let (status, www) = challenge(&app, &format!("Bearer {}", tokens.access)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(www.contains("expired"), "{www}");
}

#[tokio::test]
async fn two_authorization_headers_are_400_and_query_tokens_are_never_accepted() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let tokens = app.tokens("alice").await;
    let two_headers = app
        .client
        .get(app.url("/v1/me"))
        .header(header::AUTHORIZATION, format!("Bearer {}", tokens.access))
        .header(header::AUTHORIZATION, format!("Bearer {}", tokens.access))
        .send()
        .await
        .unwrap();
    assert_eq!(two_headers.status(), StatusCode::BAD_REQUEST);
    let query = app
        .client
        .get(app.url(&format!("/v1/me?access_token={}", tokens.access)))
        .send()
        .await
        .unwrap();
    assert_eq!(query.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_repeat_presentation_skips_the_signature_check() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let tokens = app.tokens("alice").await;
    for _ in 0..3 {
        assert_eq!(app.bearer_me(&tokens.access).await, StatusCode::OK);
    }
    let (entries, hits, misses) = app.state.tokens.verified.stats();
    assert_eq!((entries, hits, misses), (1, 2, 1));
    let metrics = app.metrics().await;
    assert!(
        metrics
            .lines()
            .any(|l| l == "hallpass_verified_token_cache_hits 2"),
        "{metrics}"
    );
    assert!(
        metrics
            .lines()
            .any(|l| l == "hallpass_verified_token_cache_entries 1"),
        "{metrics}"
    );
    // Expiry is still checked on every use.
    app.advance(Duration::minutes(16));
    assert_eq!(
        app.bearer_me(&tokens.access).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn forward_auth_answers_with_who_the_caller_is() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let tokens = app.tokens("root").await;
    for response in [
        app.get_with("/v1/auth/check", &admin.cookie).await,
        app.bearer(Method::GET, "/v1/auth/check", &tokens.access)
            .await,
    ] {
        assert_eq!(response.status(), StatusCode::OK);
        let h = response.headers();
        assert_eq!(h["x-hallpass-username"], "root");
        assert_eq!(h["x-hallpass-roles"], "admin");
        assert!(uuid::Uuid::parse_str(h["x-hallpass-user"].to_str().unwrap()).is_ok());
        assert!(uuid::Uuid::parse_str(h["x-hallpass-session"].to_str().unwrap()).is_ok());
    }
    let stranger = app
        .client
        .get(app.url("/v1/auth/check"))
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), StatusCode::UNAUTHORIZED);
    app.bearer(Method::POST, "/v1/logout", &tokens.access).await;
    assert_eq!(
        app.bearer(Method::GET, "/v1/auth/check", &tokens.access)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn bearer_works_on_every_authenticated_endpoint() {
    let app = spawn_app().await;
    app.admin("root").await;
    app.signup("alice").await;
    let root = app.tokens("root").await;
    let alice = app.tokens("alice").await;
    for path in [
        "/v1/me",
        "/v1/sessions",
        "/v1/auth/check",
        "/v1/admin/users",
        "/v1/admin/audit",
    ] {
        assert_eq!(
            app.bearer(Method::GET, path, &root.access).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }
    assert_eq!(
        app.bearer(Method::GET, "/v1/admin/users", &alice.access)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let alice_id = app
        .bearer(Method::GET, "/v1/me", &alice.access)
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let patch = app
        .client
        .patch(app.url(&format!("/v1/admin/users/{alice_id}")))
        .bearer_auth(&root.access)
        .json(&json!({ "roles": ["editor"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        patch.status(),
        StatusCode::OK,
        "admin writes by Bearer need no CSRF token"
    );
}
