//! Bearer authentication (RFC 6750) and instant revocation of access tokens (DESIGN §7).

use reqwest::{Method, StatusCode, header};
use serde_json::json;
use time::Duration;

use crate::helpers::{ClockReading, PASSWORD, TestApp, oauth_error, spawn_app, start};

fn sid(access: &str) -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let payload = URL_SAFE_NO_PAD
        .decode(access.split('.').nth(1).unwrap())
        .unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    claims["sid"].as_str().unwrap().to_owned()
}

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
async fn more_than_one_credential_is_400_and_query_tokens_are_never_accepted() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let tokens = app.tokens("alice").await;
    let login = app.login("alice").await;
    let two_headers = app
        .client
        .get(app.url("/v1/me"))
        .header(header::AUTHORIZATION, format!("Bearer {}", tokens.access))
        .header(header::AUTHORIZATION, format!("Bearer {}", tokens.access))
        .send()
        .await
        .unwrap();
    assert_eq!(two_headers.status(), StatusCode::BAD_REQUEST);
    let cookie_and_bearer = app
        .client
        .get(app.url("/v1/me"))
        .header(header::COOKIE, &login.cookie)
        .bearer_auth(&tokens.access)
        .send()
        .await
        .unwrap();
    assert_eq!(cookie_and_bearer.status(), StatusCode::BAD_REQUEST);
    let query = app
        .client
        .get(app.url(&format!("/v1/me?access_token={}", tokens.access)))
        .send()
        .await
        .unwrap();
    assert_eq!(query.status(), StatusCode::BAD_REQUEST);
}

/// Every way of ending a session kills its access tokens at once, well before `exp`.
#[tokio::test]
async fn every_revocation_kills_the_access_token_before_it_expires() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let user = app.signup("alice").await;
    let alice_id = user["user"]["id"].as_str().unwrap().to_owned();

    // Logout, each scope.
    let t = app.tokens("alice").await;
    assert_eq!(
        app.bearer(Method::POST, "/v1/logout", &t.access)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.bearer_me(&t.access).await,
        StatusCode::UNAUTHORIZED,
        "logout local"
    );
    let (a, b) = (app.tokens("alice").await, app.tokens("alice").await);
    let others = app
        .client
        .post(app.url("/v1/logout"))
        .bearer_auth(&a.access)
        .json(&json!({"scope": "others"}))
        .send()
        .await
        .unwrap();
    assert_eq!(others.status(), StatusCode::OK);
    assert_eq!(
        app.bearer_me(&b.access).await,
        StatusCode::UNAUTHORIZED,
        "logout others"
    );
    assert_eq!(app.bearer_me(&a.access).await, StatusCode::OK);
    let global = app
        .client
        .post(app.url("/v1/logout"))
        .bearer_auth(&a.access)
        .json(&json!({"scope": "global"}))
        .send()
        .await
        .unwrap();
    assert_eq!(global.status(), StatusCode::OK);
    assert_eq!(
        app.bearer_me(&a.access).await,
        StatusCode::UNAUTHORIZED,
        "logout global"
    );

    // DELETE /v1/sessions/{id} from a cookie session.
    let t = app.tokens("alice").await;
    let cookie = app.login("alice").await;
    let deleted = app
        .write(
            Method::DELETE,
            &format!("/v1/sessions/{}", sid(&t.access)),
            &cookie,
            None,
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.bearer_me(&t.access).await,
        StatusCode::UNAUTHORIZED,
        "session deleted"
    );

    // Password change.
    let (keep, lose) = (app.tokens("alice").await, app.tokens("alice").await);
    let change = app
        .client
        .post(app.url("/v1/password"))
        .bearer_auth(&keep.access)
        .json(
            &json!({"current_password": PASSWORD, "new_password": PASSWORD.to_owned() + " again"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(change.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.bearer_me(&lose.access).await,
        StatusCode::UNAUTHORIZED,
        "password change"
    );
    assert_eq!(app.bearer_me(&keep.access).await, StatusCode::OK);
    let new_password = PASSWORD.to_owned() + " again";

    // Admin force logout, disable.
    let token_for = |app: &TestApp| {
        let request = app.client.post(app.url("/v1/token")).json(
            &json!({"grant_type": "password", "username": "alice", "password": new_password}),
        );
        async move { crate::helpers::tokens_from(request.send().await.unwrap()).await }
    };
    let t = token_for(&app).await;
    app.write(
        Method::POST,
        &format!("/v1/admin/users/{alice_id}/logout"),
        &admin,
        None,
    )
    .await;
    assert_eq!(
        app.bearer_me(&t.access).await,
        StatusCode::UNAUTHORIZED,
        "admin force logout"
    );
    let t = token_for(&app).await;
    app.write(
        Method::PATCH,
        &format!("/v1/admin/users/{alice_id}"),
        &admin,
        Some(json!({"disabled": true})),
    )
    .await;
    assert_eq!(
        app.bearer_me(&t.access).await,
        StatusCode::UNAUTHORIZED,
        "disabled"
    );
    app.write(
        Method::PATCH,
        &format!("/v1/admin/users/{alice_id}"),
        &admin,
        Some(json!({"disabled": false})),
    )
    .await;

    // RFC 7009 with the refresh token, then with the access token.
    let t = token_for(&app).await;
    let revoke = app
        .client
        .post(app.url("/v1/revoke"))
        .form(&[("token", t.refresh.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), StatusCode::OK);
    assert_eq!(
        app.bearer_me(&t.access).await,
        StatusCode::UNAUTHORIZED,
        "revoked by refresh token"
    );
    let t = token_for(&app).await;
    let revoke = app
        .client
        .post(app.url("/v1/revoke"))
        .json(&json!({"token": t.access, "token_type_hint": "access_token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), StatusCode::OK);
    assert_eq!(
        app.bearer_me(&t.access).await,
        StatusCode::UNAUTHORIZED,
        "revoked by access token"
    );
    let junk = app
        .client
        .post(app.url("/v1/revoke"))
        .form(&[("token", "whatever")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        junk.status(),
        StatusCode::OK,
        "unknown tokens answer 200 too"
    );
    oauth_error(
        app.client
            .post(app.url("/v1/revoke"))
            .form(&[("x", "y")])
            .send()
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;

    // Deleting the user.
    let t = token_for(&app).await;
    app.write(
        Method::DELETE,
        &format!("/v1/admin/users/{alice_id}"),
        &admin,
        None,
    )
    .await;
    assert_eq!(
        app.bearer_me(&t.access).await,
        StatusCode::UNAUTHORIZED,
        "user deleted"
    );
}

/// The revoked set is rebuilt from the store at start: a restart forgets no revocation.
#[tokio::test]
async fn a_restart_forgets_no_revocation() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let revoked = app.tokens("alice").await;
    let live = app.tokens("alice").await;
    assert_eq!(
        app.bearer(Method::POST, "/v1/logout", &revoked.access)
            .await
            .status(),
        StatusCode::OK
    );
    let restarted = start(app.settings.clone(), app.clock.clone(), app.dir).await;
    assert!(restarted.state.tokens.revoked.contains(
        hallpass_core::session::SessionId(sid(&revoked.access).parse().unwrap()),
        restarted.clock.now_for_tests()
    ));
    assert_eq!(
        restarted.bearer_me(&revoked.access).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        restarted.bearer_me(&live.access).await,
        StatusCode::OK,
        "the same keys verify after a restart"
    );
}

#[tokio::test]
async fn the_revocation_feed_lists_recent_revocations_with_a_cursor() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let gone = app.tokens("alice").await;
    let kept = app.tokens("alice").await;
    app.bearer(Method::POST, "/v1/logout", &gone.access).await;
    let feed: serde_json::Value = app
        .client
        .get(app.url("/v1/revocations"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sessions: Vec<&str> = feed["revocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["session"].as_str().unwrap())
        .collect();
    assert_eq!(sessions, [sid(&gone.access)]);
    assert!(!feed.to_string().contains(&sid(&kept.access)));
    let next = feed["next"].as_str().unwrap().to_owned();
    let later: serde_json::Value = app
        .client
        .get(app.url(&format!("/v1/revocations?since={next}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let repeated: Vec<&str> = later["revocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["session"].as_str().unwrap())
        .collect();
    assert_eq!(
        repeated,
        [sid(&gone.access)],
        "the overlap repeats, idempotently, nothing new"
    );
    app.bearer(Method::POST, "/v1/logout", &kept.access).await;
    let later: serde_json::Value = app
        .client
        .get(app.url(&format!("/v1/revocations?since={next}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sessions: Vec<&str> = later["revocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["session"].as_str().unwrap())
        .collect();
    assert!(
        sessions.contains(&sid(&kept.access).as_str()),
        "a revocation in the cursor's instant still arrives"
    );
    app.advance(Duration::minutes(16));
    let expired: serde_json::Value = app
        .client
        .get(app.url("/v1/revocations"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        expired["revocations"].as_array().unwrap().is_empty(),
        "older than any live token"
    );
    let bad = app
        .client
        .get(app.url("/v1/revocations?since=yesterday"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
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
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
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
