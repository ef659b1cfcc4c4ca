//! The token endpoint: grants, response shapes, errors.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, PUBLIC_URL, oauth_error, spawn_app, tokens_from};

fn segment(token: &str, i: usize) -> Value {
    serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').nth(i).unwrap())
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn the_password_grant_answers_rfc_6749_with_an_rfc_9068_access_token() {
    let app = spawn_app().await;
    let user = app.signup("alice").await;
    let response = app
        .token_request(
            json!({ "grant_type": "password", "username": "alice", "password": PASSWORD }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    assert_eq!(response.headers()[header::PRAGMA], "no-cache");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(
        body["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("hp_rt_")
    );
    let access = body["access_token"].as_str().unwrap();
    let header = segment(access, 0);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "EdDSA");
    let jwks: Value = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kid"], header["kid"]);
    assert_eq!(jwks["keys"][0]["alg"], "EdDSA");
    assert_eq!(jwks["keys"][0]["use"], "sig");
    assert!(
        jwks["keys"][0].get("d").is_none(),
        "no private part is published"
    );
    let claims = segment(access, 1);
    assert_eq!(claims["iss"], PUBLIC_URL);
    assert_eq!(claims["aud"], PUBLIC_URL);
    assert_eq!(claims["sub"], user["user"]["id"]);
    assert_eq!(claims["roles"], json!([]));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
    assert_eq!(claims["nbf"], claims["iat"]);
    assert!(claims["jti"].is_string() && claims["sid"].is_string());

    let me: Value = app
        .bearer(Method::GET, "/v1/me", access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["username"], "alice");
    assert_eq!(me["session"]["kind"], "token");
    assert_eq!(me["session"]["id"], claims["sid"]);
    assert!(me.get("csrf_token").is_none());
}

#[tokio::test]
async fn the_token_endpoint_takes_forms_too() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let response = app
        .client
        .post(app.url("/v1/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let tokens = tokens_from(response).await;
    let response = app
        .client
        .post(app.url("/v1/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens.refresh.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn token_errors_follow_rfc_6749() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let wrong = app
        .token_request(
            json!({ "grant_type": "password", "username": "alice", "password": "nope nope" }),
        )
        .await;
    oauth_error(wrong, StatusCode::BAD_REQUEST, "invalid_grant").await;
    let unknown = app
        .token_request(
            json!({ "grant_type": "password", "username": "nobody", "password": "nope nope" }),
        )
        .await;
    oauth_error(unknown, StatusCode::BAD_REQUEST, "invalid_grant").await;
    let missing = app
        .token_request(json!({ "grant_type": "password", "username": "alice" }))
        .await;
    oauth_error(missing, StatusCode::BAD_REQUEST, "invalid_request").await;
    let grant = app
        .token_request(json!({ "grant_type": "client_credentials" }))
        .await;
    oauth_error(grant, StatusCode::BAD_REQUEST, "unsupported_grant_type").await;
    oauth_error(
        app.token_request(json!({})).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    let text = app
        .client
        .post(app.url("/v1/token"))
        .body("grant_type=password")
        .send()
        .await
        .unwrap();
    oauth_error(text, StatusCode::BAD_REQUEST, "invalid_request").await;
    let malformed = app
        .client
        .post(app.url("/v1/token"))
        .header(header::CONTENT_TYPE, "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    oauth_error(malformed, StatusCode::BAD_REQUEST, "invalid_request").await;
    let bad_refresh = app.refresh("hp_rt_garbage").await;
    oauth_error(bad_refresh, StatusCode::BAD_REQUEST, "invalid_grant").await;
    let foreign = app
        .client
        .post(app.url("/v1/token"))
        .header("origin", "https://evil.example")
        .json(&json!({ "grant_type": "password", "username": "alice", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    oauth_error(foreign, StatusCode::BAD_REQUEST, "invalid_request").await;
}

#[tokio::test]
async fn token_sessions_are_listed_limited_and_revoked_like_cookie_sessions() {
    let app = crate::helpers::spawn_app_with(crate::helpers::Backend::Sqlite, |s| {
        s.max_sessions_per_user = Some(2)
    })
    .await;
    app.signup("alice").await;
    let laptop = app.login("alice").await;
    app.advance(time::Duration::seconds(1));
    let phone = app.tokens("alice").await;
    app.advance(time::Duration::seconds(1));
    let tablet = app.tokens("alice").await;
    assert_eq!(
        app.me(&laptop).await,
        StatusCode::UNAUTHORIZED,
        "the oldest session was evicted"
    );
    let sessions: Value = app
        .bearer(Method::GET, "/v1/sessions", &tablet.access)
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["token", "token"]);
    // Bearer writes need no CSRF token.
    let phone_sid = segment(&phone.access, 1)["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = app
        .bearer(
            Method::DELETE,
            &format!("/v1/sessions/{phone_sid}"),
            &tablet.access,
        )
        .await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, StatusCode::NO_CONTENT, "{text}");
    assert_eq!(app.bearer_me(&phone.access).await, StatusCode::UNAUTHORIZED);
    oauth_error(
        app.refresh(&phone.refresh).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    assert_eq!(app.bearer_me(&tablet.access).await, StatusCode::OK);
}
