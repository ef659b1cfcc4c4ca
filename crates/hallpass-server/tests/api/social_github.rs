//! Sign-in with GitHub: OAuth 2 with PKCE against a real authorization server (oidc-provider
//! plays github.com's OAuth endpoints) and a stand-in for GitHub's REST API that answers
//! `/user` and `/user/emails` from the provider's userinfo for the same access token, so the
//! token hallpass got is the one that is checked.

use std::net::SocketAddr;

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode as AxumStatus, header as axum_header},
    routing::get,
};
use hallpass_server::config::ProviderSettings;
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, PUBLIC_URL, TestApp, session_cookie, spawn_app_with},
    oidc_provider::{TestProvider, oidc_available},
};

/// GitHub's REST API for the tests: who the access token belongs to, asked of the provider.
async fn fake_github_api(issuer: String) -> SocketAddr {
    async fn userinfo(issuer: &str, headers: &HeaderMap) -> Result<Value, AxumStatus> {
        let bearer = headers
            .get(axum_header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(AxumStatus::UNAUTHORIZED)?;
        let answer = reqwest::Client::new()
            .get(format!("{issuer}/me"))
            .header(header::AUTHORIZATION, bearer)
            .send()
            .await
            .map_err(|_| AxumStatus::BAD_GATEWAY)?;
        if !answer.status().is_success() {
            return Err(AxumStatus::UNAUTHORIZED);
        }
        answer.json().await.map_err(|_| AxumStatus::BAD_GATEWAY)
    }
    async fn user(
        State(issuer): State<String>,
        headers: HeaderMap,
    ) -> Result<Json<Value>, AxumStatus> {
        let info = userinfo(&issuer, &headers).await?;
        let sub = info["sub"].as_str().unwrap_or_default();
        // A numeric id, as GitHub's are, stable for a subject.
        let id = sub
            .bytes()
            .fold(7_u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
            % 1_000_000_000;
        Ok(Json(
            json!({ "id": id, "login": info["preferred_username"] }),
        ))
    }
    async fn emails(
        State(issuer): State<String>,
        headers: HeaderMap,
    ) -> Result<Json<Value>, AxumStatus> {
        let info = userinfo(&issuer, &headers).await?;
        Ok(Json(json!([
            { "email": "noreply@users.github.test", "primary": false, "verified": true },
            { "email": info["email"], "primary": true, "verified": info["email_verified"] },
        ])))
    }
    let app = Router::new()
        .route("/user", get(user))
        .route("/user/emails", get(emails))
        .with_state(issuer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

async fn setup() -> (TestApp, TestProvider) {
    let provider = TestProvider::start(&format!("{PUBLIC_URL}/v1/oauth/github/callback")).await;
    let api = fake_github_api(provider.issuer.clone()).await;
    let settings = ProviderSettings {
        client_id: provider.client_id.clone(),
        client_secret: Some(provider.client_secret.clone()),
        authorization_endpoint: Some(format!("{}/auth", provider.issuer)),
        token_endpoint: Some(format!("{}/token", provider.issuer)),
        api_url: Some(format!("http://{api}")),
        // The stand-in asks the provider's userinfo, which needs these.
        scopes: Some(vec!["openid".into(), "email".into(), "profile".into()]),
        ..ProviderSettings::default()
    };
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.providers.insert("github".to_owned(), settings);
    })
    .await;
    (app, provider)
}

/// Through GitHub's login to the callback; returns the callback's answer.
async fn sign_in(app: &TestApp, provider: &TestProvider, login: &str) -> reqwest::Response {
    let start = app
        .client
        .get(app.url("/v1/oauth/github/authorize"))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let location = start.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(location.contains("code_challenge_method=S256") && location.contains("state="));
    assert!(
        !location.contains("nonce="),
        "GitHub has no ID token, so no nonce"
    );
    let cookie = start
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("hallpass_oauth="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let back = provider.log_in(&location, login).await;
    let callback = format!("{}?{}", back.path(), back.query().unwrap_or_default());
    app.client
        .get(app.url(&callback))
        .header(header::COOKIE, cookie)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn github_users_sign_in_by_their_numeric_id_with_their_primary_verified_email() {
    if !oidc_available() {
        return;
    }
    let (app, provider) = setup().await;
    let done = sign_in(&app, &provider, "octocat").await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let session = session_cookie(&done).expect("a session");
    let me: Value = app.get_with("/v1/me", &session).await.json().await.unwrap();
    assert_eq!(me["user"]["username"], "octocat");
    assert_eq!(
        me["user"]["email"], "octocat@example.test",
        "the primary, verified address"
    );
    let again = sign_in(&app, &provider, "octocat").await;
    let second: Value = app
        .get_with("/v1/me", &session_cookie(&again).unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["user"]["id"], me["user"]["id"]);
    let page = app.page("/login", None).await.text().await.unwrap();
    assert!(page.contains("Continue with GitHub"), "{page}");
}

#[tokio::test]
async fn an_unverified_github_email_stays_off_the_account() {
    if !oidc_available() {
        return;
    }
    let (app, provider) = setup().await;
    let done = sign_in(&app, &provider, "unverified-hubot").await;
    let me: Value = app
        .get_with("/v1/me", &session_cookie(&done).unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["username"], "unverified-hubot");
    assert_eq!(me["user"]["email"], Value::Null);
}
