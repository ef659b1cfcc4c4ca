//! Brute force without denial of service: five wrong passwords lock an account against
//! attempts from anywhere, but a browser that has logged in to it before (a genuine device
//! cookie for that account) is judged by its own failures only (docs/operations.md "Brute
//! force and lockout").

use reqwest::{Response, StatusCode, header};
use serde_json::json;

use crate::{
    helpers::{Backend, PASSWORD, TestApp, problem, redis_url, spawn_app, spawn_app_with},
    pages::{form, post_form},
};

const WRONG: &str = "wrong wrong wrong";

/// The `Cookie` header value of the device cookie a response set.
fn device_cookie(response: &Response) -> String {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("hallpass_device="))
        .and_then(|v| v.split(';').next())
        .expect("a device cookie")
        .to_owned()
}

/// A JSON login presenting `cookie` (a device cookie), if any.
async fn login_with(
    app: &TestApp,
    username: &str,
    password: &str,
    cookie: Option<&str>,
) -> Response {
    let mut request = app
        .client
        .post(app.url("/v1/login"))
        .json(&json!({ "username": username, "password": password }));
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.send().await.unwrap()
}

/// Logs `username` in from a fresh browser; returns the device cookie it is given.
async fn known_browser(app: &TestApp, username: &str) -> String {
    let response = app.try_login(username, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    device_cookie(&response)
}

/// Five wrong passwords from somewhere without a device cookie.
async fn attacker_locks(app: &TestApp, username: &str) {
    for _ in 0..5 {
        assert_eq!(
            app.try_login(username, WRONG).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn the_owners_known_browser_logs_in_while_an_attacker_has_the_account_locked() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let device = known_browser(&app, "alice").await;
    attacker_locks(&app, "alice").await;
    // Without the cookie, even the right password is refused.
    let locked = app.try_login("alice", PASSWORD).await;
    problem(locked, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;

    let owner = login_with(&app, "alice", PASSWORD, Some(&device)).await;
    assert_eq!(owner.status(), StatusCode::OK);
    // The owner's success does not lift the lock for everyone else.
    assert_eq!(
        app.try_login("alice", PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn a_device_cookie_for_another_account_does_not_pass_the_lockout() {
    let app = spawn_app().await;
    app.signup("alice").await;
    app.signup("mallory").await;
    let mallorys = known_browser(&app, "mallory").await;
    attacker_locks(&app, "alice").await;
    let response = login_with(&app, "alice", PASSWORD, Some(&mallorys)).await;
    problem(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

#[tokio::test]
async fn a_forged_or_tampered_device_cookie_does_not_pass_the_lockout() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let genuine = known_browser(&app, "alice").await;
    // A cookie from another deployment (another secret) for an alice of its own.
    let elsewhere = spawn_app().await;
    elsewhere.signup("alice").await;
    let foreign = known_browser(&elsewhere, "alice").await;
    attacker_locks(&app, "alice").await;

    let value = genuine.trim_start_matches("hallpass_device=");
    let mut parts: Vec<String> = value.split('.').map(str::to_owned).collect();
    let flip = |s: &str| {
        let mut chars: Vec<char> = s.chars().collect();
        chars[0] = if chars[0] == 'A' { 'B' } else { 'A' };
        chars.into_iter().collect::<String>()
    };
    parts[2] = flip(&parts[2]);
    let other_device = format!("hallpass_device={}", parts.join("."));
    let mut resigned: Vec<&str> = value.split('.').collect();
    let mac = flip(resigned[4]);
    resigned[4] = &mac;
    let bad_mac = format!("hallpass_device={}", resigned.join("."));
    for cookie in [
        other_device.as_str(),
        bad_mac.as_str(),
        foreign.as_str(),
        "hallpass_device=v1.not.a.token",
        "hallpass_device=",
        // Two copies (one tossed in by a sibling site): neither is believed.
        &format!("{genuine}; {genuine}"),
    ] {
        let response = login_with(&app, "alice", PASSWORD, Some(cookie)).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{cookie}");
    }
}

#[tokio::test]
async fn a_known_browsers_own_wrong_guesses_lock_that_browser_only() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let device = known_browser(&app, "alice").await;
    for _ in 0..5 {
        assert_eq!(
            login_with(&app, "alice", WRONG, Some(&device))
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let locked = login_with(&app, "alice", PASSWORD, Some(&device)).await;
    assert_eq!(locked.headers()[header::RETRY_AFTER], "30");
    problem(locked, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // A stolen cookie's guesses spend that cookie's budget, not everyone's.
    assert_eq!(
        app.try_login("alice", PASSWORD).await.status(),
        StatusCode::OK
    );
    app.advance(time::Duration::seconds(31));
    assert_eq!(
        login_with(&app, "alice", PASSWORD, Some(&device))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_login_form_honours_the_device_cookie_too() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let form_login = |cookie: Option<String>| {
        let app = &app;
        async move {
            let (nonce, token) = form(app, "/login").await;
            let cookies = match cookie {
                Some(device) => format!("{nonce}; {device}"),
                None => nonce,
            };
            let fields = [
                ("username", "alice"),
                ("password", PASSWORD),
                ("csrf_token", token.as_str()),
            ];
            post_form(app, "/login", &cookies, &fields).await
        }
    };
    let first = form_login(None).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let device = device_cookie(&first);
    assert!(first.headers().get_all(header::SET_COOKIE).iter().any(|v| {
        let v = v.to_str().unwrap();
        v.starts_with("hallpass_device=")
            && v.contains("HttpOnly")
            && v.contains("SameSite=Lax")
            && v.contains("Max-Age=31536000")
    }));
    attacker_locks(&app, "alice").await;
    assert_eq!(
        form_login(None).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let owner = form_login(Some(device)).await;
    assert_eq!(owner.status(), StatusCode::SEE_OTHER);
    assert_eq!(owner.headers()[header::LOCATION], "/account");
}

#[tokio::test]
async fn the_password_grant_stays_under_the_account_lockout() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let device = known_browser(&app, "alice").await;
    attacker_locks(&app, "alice").await;
    let response = app
        .client
        .post(app.url("/v1/token"))
        .header(header::COOKIE, &device)
        .json(&json!({ "grant_type": "password", "username": "alice", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// With Redis, a known browser passes a lockout made on another node, and its own lockout
/// holds on every node.
#[tokio::test]
async fn the_device_rule_holds_across_nodes() {
    let Some(redis) = redis_url() else { return };
    let prefix = format!("hallpass_test_{}:", uuid::Uuid::new_v4().simple());
    let a = spawn_app_with(Backend::Sqlite, |s| {
        s.redis_url = Some(redis);
        s.redis_key_prefix = prefix;
    })
    .await;
    let b = a.another_node().await;
    a.signup("alice").await;
    let device = known_browser(&a, "alice").await;
    for node in [&a, &b, &a, &b, &a] {
        assert_eq!(
            node.try_login("alice", WRONG).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        b.try_login("alice", PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        login_with(&b, "alice", PASSWORD, Some(&device))
            .await
            .status(),
        StatusCode::OK
    );
    for node in [&b, &a, &b, &a, &b] {
        assert_eq!(
            login_with(node, "alice", WRONG, Some(&device))
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login_with(&a, "alice", PASSWORD, Some(&device))
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn device_cookies_are_host_prefixed_and_secure_under_https() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.public_url = "https://auth.example".to_owned()
    })
    .await;
    app.signup("alice").await;
    let response = app.try_login("alice", PASSWORD).await;
    let device = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-hallpass_device="))
        .expect("a device cookie")
        .to_owned();
    for flag in ["Secure", "HttpOnly", "Path=/", "SameSite=Lax"] {
        assert!(device.contains(flag), "{device}");
    }
}

#[tokio::test]
async fn the_browser_that_signed_up_through_the_form_is_a_known_device() {
    let app = spawn_app().await;
    let (nonce, token) = form(&app, "/signup").await;
    let fields = [
        ("username", "alice"),
        ("password", PASSWORD),
        ("csrf_token", token.as_str()),
    ];
    let signed_up = post_form(&app, "/signup", &nonce, &fields).await;
    assert_eq!(signed_up.status(), StatusCode::SEE_OTHER);
    let device = device_cookie(&signed_up);
    attacker_locks(&app, "alice").await;
    assert_eq!(
        login_with(&app, "alice", PASSWORD, None).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        login_with(&app, "alice", PASSWORD, Some(&device))
            .await
            .status(),
        StatusCode::OK
    );
}
