//! Cookie tossing under https: a sibling subdomain can plant `__Secure-` cookies (a `Domain=`
//! cookie from evil.example.com reaches auth.example.com), so the refresh cookie
//! (`__Secure-hallpass_refresh`, `Path=/v1/token`) counts only with its `__Host-` companion, which
//! only hallpass's own host can set. Each test sends the `Cookie` header a browser would send.

use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};
use time::Duration;

use crate::helpers::{
    Backend, PASSWORD, TestApp, cookie_header, has_attribute, oauth_error, set_cookie_named,
    set_cookies, spawn_app_with,
};

const HTTPS_URL: &str = "https://hallpass.test";
const REFRESH: &str = "__Secure-hallpass_refresh";
const COMPANION: &str = "__Host-hallpass_refresh_binding";

async fn https_app() -> TestApp {
    spawn_app_with(Backend::Sqlite, |s| s.public_url = HTTPS_URL.to_owned()).await
}

/// A browser's password login with cookie delivery: the response (for its `Set-Cookie`s).
async fn cookie_login(app: &TestApp, username: &str) -> reqwest::Response {
    app.signup(username).await;
    let response = app
        .client
        .post(app.url("/v1/token"))
        .header(header::ORIGIN, HTTPS_URL)
        .json(&json!({ "grant_type": "password", "username": username, "password": PASSWORD, "refresh_token_delivery": "cookie" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response
}

async fn cookie_refresh(app: &TestApp, cookie: &str) -> reqwest::Response {
    app.client
        .post(app.url("/v1/token"))
        .header(header::COOKIE, cookie)
        .header(header::ORIGIN, HTTPS_URL)
        .json(&json!({ "grant_type": "refresh_token", "refresh_token_delivery": "cookie" }))
        .send()
        .await
        .unwrap()
}

/// `name=value` of the cookie `name` in a `Cookie` header.
fn pair<'a>(cookie: &'a str, name: &str) -> &'a str {
    cookie
        .split("; ")
        .find(|p| p.split('=').next() == Some(name))
        .unwrap_or_else(|| panic!("no {name} in {cookie}"))
}

/// Whose session an access token from a successful refresh belongs to.
async fn username_of(app: &TestApp, response: reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let me: Value = app
        .bearer(
            Method::GET,
            "/v1/me",
            body["access_token"].as_str().unwrap(),
        )
        .await
        .json()
        .await
        .unwrap();
    me["user"]["username"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn under_https_the_refresh_cookie_has_a_host_only_companion_and_both_rotate() {
    let app = https_app().await;
    let login = cookie_login(&app, "alice").await;
    let refresh = set_cookie_named(&login, REFRESH).expect("the refresh cookie");
    let companion = set_cookie_named(&login, COMPANION).expect("its companion");
    for flag in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/v1/token"] {
        assert!(has_attribute(&refresh, flag), "{flag}: {refresh}");
    }
    for flag in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(has_attribute(&companion, flag), "{flag}: {companion}");
    }
    assert!(
        set_cookies(&login).iter().all(|c| !c.contains("Domain")),
        "host-only"
    );

    // Each refresh sets both again; the browser's jar follows.
    let mut jar = cookie_header(&login);
    for _ in 0..2 {
        let response = cookie_refresh(&app, &jar).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(set_cookie_named(&response, REFRESH).is_some());
        assert!(set_cookie_named(&response, COMPANION).is_some());
        let next = cookie_header(&response);
        assert_ne!(pair(&next, REFRESH), pair(&jar, REFRESH), "rotated");
        jar = next;
    }
    assert_eq!(
        username_of(&app, cookie_refresh(&app, &jar).await).await,
        "alice"
    );
}

#[tokio::test]
async fn a_planted_refresh_cookie_without_the_companion_signs_nobody_in() {
    let app = https_app().await;
    // Mallory's own, valid refresh cookie, planted by her sibling site into a fresh browser.
    let mallory = cookie_header(&cookie_login(&app, "mallory").await);
    let planted = pair(&mallory, REFRESH).to_owned();
    let refused = cookie_refresh(&app, &planted).await;
    assert!(set_cookies(&refused).is_empty(), "no cookie set");
    oauth_error(refused, StatusCode::BAD_REQUEST, "invalid_grant").await;
    // An empty or forged companion does no better.
    for companion in ["", "AAAA", "x"] {
        let cookie = format!("{planted}; {COMPANION}={companion}");
        let refused = cookie_refresh(&app, &cookie).await;
        oauth_error(refused, StatusCode::BAD_REQUEST, "invalid_grant").await;
    }
    // It changed nothing: past the grace window, Mallory's token is still the current one (a
    // rotation would have made it a replay, and theft).
    app.advance(Duration::minutes(5));
    assert_eq!(
        username_of(&app, cookie_refresh(&app, &mallory).await).await,
        "mallory"
    );
}

#[tokio::test]
async fn a_planted_refresh_cookie_beside_the_victims_is_passed_over() {
    let app = https_app().await;
    let alice = cookie_header(&cookie_login(&app, "alice").await);
    let mallory = cookie_header(&cookie_login(&app, "mallory").await);
    let planted = pair(&mallory, REFRESH);
    let (own, companion) = (pair(&alice, REFRESH), pair(&alice, COMPANION));
    // Both orders: the browser sends the more specific path first, else the older cookie.
    for cookie in [
        format!("{planted}; {own}; {companion}"),
        format!("{own}; {planted}; {companion}"),
    ] {
        let response = cookie_refresh(&app, &cookie).await;
        assert_eq!(username_of(&app, response).await, "alice", "{cookie}");
        app.advance(Duration::seconds(1));
    }
    // The victim's companion does not vouch for the planted cookie alone.
    let cookie = format!("{planted}; {companion}");
    let refused = cookie_refresh(&app, &cookie).await;
    oauth_error(refused, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

#[tokio::test]
async fn revoking_the_browsers_own_session_clears_both_cookies_and_only_then() {
    let app = https_app().await;
    let login = cookie_login(&app, "alice").await;
    let jar = cookie_header(&login);
    let access = login.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Another session's token revoked from this browser: its cookies stay.
    app.signup("bob").await;
    let other = app.tokens("bob").await;
    let revoke = |token: String, cookie: String| {
        app.client
            .post(app.url("/v1/revoke"))
            .header(header::COOKIE, cookie)
            .header(header::ORIGIN, HTTPS_URL)
            .form(&[("token", token)])
            .send()
    };
    // The browser sends only the companion to /v1/revoke (the refresh cookie is Path=/v1/token).
    let companion = pair(&jar, COMPANION).to_owned();
    let response = revoke(other.access, companion.clone()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(set_cookies(&response).is_empty());

    let response = revoke(access, companion).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    for name in [REFRESH, COMPANION] {
        let cleared = set_cookie_named(&response, name).unwrap_or_else(|| panic!("{name}"));
        assert!(cleared.contains("Max-Age=0"), "{cleared}");
    }
}
