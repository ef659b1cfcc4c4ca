//! Instant revocation of access tokens (docs/design.md §7): every way of ending a session, a restart,
//! and the feed for resource servers.

use reqwest::{Method, StatusCode};
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
