//! Every CSRF rejection of docs/design.md §6, on a cookie-authenticated write.

use reqwest::{StatusCode, header};
use serde_json::json;

use crate::helpers::{
    Backend, Login, PASSWORD, PUBLIC_URL, TestApp, problem, spawn_app, spawn_app_with,
};

async fn logged_in(app: &TestApp) -> Login {
    app.signup("alice").await;
    app.login("alice").await
}

/// A logout attempt with the given CSRF-relevant headers; the session must survive a refusal.
async fn attempt(app: &TestApp, login: &Login, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/v1/logout"))
        .header(header::COOKIE, &login.cookie);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

async fn refused(app: &TestApp, login: &Login, headers: &[(&str, &str)]) {
    let response = attempt(app, login, headers).await;
    problem(response, StatusCode::FORBIDDEN, "csrf_failed").await;
    assert_eq!(
        app.me(login).await,
        StatusCode::OK,
        "a refused write changes nothing"
    );
}

#[tokio::test]
async fn no_token_is_refused() {
    let app = spawn_app().await;
    let login = logged_in(&app).await;
    refused(&app, &login, &[("sec-fetch-site", "same-origin")]).await;
    refused(&app, &login, &[]).await;
}

#[tokio::test]
async fn a_wrong_token_is_refused() {
    let app = spawn_app().await;
    let login = logged_in(&app).await;
    refused(
        &app,
        &login,
        &[(
            "x-csrf-token",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        )],
    )
    .await;
    refused(&app, &login, &[("x-csrf-token", "")]).await;
}

#[tokio::test]
async fn the_token_of_another_session_is_refused() {
    let app = spawn_app().await;
    let login = logged_in(&app).await;
    let other = app.login("alice").await;
    refused(&app, &login, &[("x-csrf-token", &other.csrf)]).await;
}

#[tokio::test]
async fn a_foreign_origin_is_refused_even_with_the_right_token() {
    let app = spawn_app().await;
    let login = logged_in(&app).await;
    for origin in [
        "https://evil.example",
        "null",
        "http://hallpass.test.evil.example",
        "http://hallpass.test:8081",
    ] {
        refused(
            &app,
            &login,
            &[("x-csrf-token", &login.csrf), ("origin", origin)],
        )
        .await;
    }
}

#[tokio::test]
async fn a_cross_site_fetch_is_refused_even_with_the_right_token() {
    let app = spawn_app().await;
    let login = logged_in(&app).await;
    refused(
        &app,
        &login,
        &[
            ("x-csrf-token", &login.csrf),
            ("sec-fetch-site", "cross-site"),
        ],
    )
    .await;
    refused(
        &app,
        &login,
        &[
            ("x-csrf-token", &login.csrf),
            ("sec-fetch-site", "same-site"),
        ],
    )
    .await;
}

#[tokio::test]
async fn same_origin_and_non_browser_clients_pass_with_the_token() {
    let app = spawn_app().await;
    let login = logged_in(&app).await;
    // Chromium sends Origin: null on same-origin form posts under no-referrer; Sec-Fetch-Site wins.
    let response = attempt(
        &app,
        &login,
        &[
            ("x-csrf-token", &login.csrf),
            ("sec-fetch-site", "same-origin"),
            ("origin", "null"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let second = app.login("alice").await;
    let response = attempt(&app, &second, &[("x-csrf-token", &second.csrf)]).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "curl: neither header, token alone"
    );
    let third = app.login("alice").await;
    let response = attempt(
        &app,
        &third,
        &[("x-csrf-token", &third.csrf), ("origin", PUBLIC_URL)],
    )
    .await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "older browser: Origin only"
    );
}

#[tokio::test]
async fn listed_origins_may_write() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.allowed_origins = vec!["https://app.example".to_owned()]
    })
    .await;
    let login = logged_in(&app).await;
    let response = attempt(
        &app,
        &login,
        &[
            ("x-csrf-token", &login.csrf),
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://app.example"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn json_login_from_a_foreign_origin_is_refused() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let response = app
        .client
        .post(app.url("/v1/login"))
        .header("origin", "https://evil.example")
        .json(&json!({ "username": "alice", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert!(crate::helpers::session_cookie(&response).is_none());
    problem(response, StatusCode::FORBIDDEN, "csrf_failed").await;
}

/// A foreign page can post a form without a preflight; the JSON endpoints refuse forms.
#[tokio::test]
async fn form_posts_to_json_endpoints_are_refused() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let response = app
        .client
        .post(app.url("/v1/login"))
        .form(&[("username", "alice"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    problem(
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let response = app
        .client
        .post(app.url("/v1/login"))
        .header(header::CONTENT_TYPE, "text/plain")
        .body(format!(r#"{{"username":"alice","password":"{PASSWORD}"}}"#))
        .send()
        .await
        .unwrap();
    problem(
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
}

#[tokio::test]
async fn get_never_changes_state() {
    let app = spawn_app().await;
    let login = logged_in(&app).await;
    for path in [
        "/v1/logout",
        "/logout",
        "/v1/password",
        &format!("/v1/sessions/{}", login.session_id),
    ] {
        let response = app.get_with(path, &login.cookie).await;
        assert!(
            response.status() == StatusCode::METHOD_NOT_ALLOWED
                || response.status() == StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    assert_eq!(app.me(&login).await, StatusCode::OK);
}
