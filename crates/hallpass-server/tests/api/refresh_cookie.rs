//! Browser delivery of refresh tokens: an HttpOnly cookie scoped to `/v1/token`, refreshed only
//! by JSON requests from our own or an allowed origin, cleared on logout.

use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, PUBLIC_URL, TestApp, cookie_header, has_attribute, oauth_error, set_cookie_named,
    spawn_app,
};

fn refresh_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("hallpass_refresh="))
}

/// A password login with cookie delivery: the refresh cookie's `Set-Cookie`, and the `Cookie`
/// header the browser sends back (the refresh cookie and its companion).
async fn cookie_login(app: &TestApp) -> (String, String) {
    let response = app
        .client
        .post(app.url("/v1/token"))
        .header("origin", PUBLIC_URL)
        .json(&json!({ "grant_type": "password", "username": "alice", "password": PASSWORD, "refresh_token_delivery": "cookie" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let set_cookie = refresh_cookie(&response).expect("a refresh cookie");
    let cookie = cookie_header(&response);
    let body: Value = response.json().await.unwrap();
    assert!(
        body.get("refresh_token").is_none(),
        "the refresh token is not in the body"
    );
    (set_cookie, cookie)
}

async fn cookie_refresh(app: &TestApp, cookie: &str, origin: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/v1/token"))
        .header(header::COOKIE, cookie)
        .json(&json!({ "grant_type": "refresh_token", "refresh_token_delivery": "cookie" }));
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn the_refresh_cookie_is_httponly_and_scoped_to_the_token_endpoint() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let (set_cookie, cookie) = cookie_login(&app).await;
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/v1/token"] {
        assert!(set_cookie.contains(flag), "{set_cookie}");
    }
    assert!(
        set_cookie
            .trim_start_matches("hallpass_refresh=")
            .starts_with("hp_rt_")
    );
    let response = cookie_refresh(&app, &cookie, Some(PUBLIC_URL)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let next = refresh_cookie(&response).expect("the successor in a new cookie");
    assert_ne!(next.split(';').next(), set_cookie.split(';').next());
    let body: Value = response.json().await.unwrap();
    assert!(body["access_token"].is_string() && body.get("refresh_token").is_none());
}

#[tokio::test]
async fn cookie_refreshes_from_elsewhere_or_as_forms_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let (_, cookie) = cookie_login(&app).await;
    for origin in [None, Some("https://evil.example"), Some("null")] {
        let response = cookie_refresh(&app, &cookie, origin).await;
        assert!(refresh_cookie(&response).is_none());
        oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
    let form = app
        .client
        .post(app.url("/v1/token"))
        .header(header::COOKIE, &cookie)
        .header("origin", PUBLIC_URL)
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token_delivery", "cookie"),
        ])
        .send()
        .await
        .unwrap();
    oauth_error(form, StatusCode::BAD_REQUEST, "invalid_request").await;
    // Nothing changed: the cookie still refreshes (it was never rotated by the refusals).
    assert_eq!(
        cookie_refresh(&app, &cookie, Some(PUBLIC_URL))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn logout_clears_the_refresh_cookie() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let response = app
        .client
        .post(app.url("/v1/token"))
        .header("origin", PUBLIC_URL)
        .json(&json!({ "grant_type": "password", "username": "alice", "password": PASSWORD, "refresh_token_delivery": "cookie" }))
        .send()
        .await
        .unwrap();
    let cookie = cookie_header(&response);
    let access = response.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let logout = app.bearer(Method::POST, "/v1/logout", &access).await;
    let cleared = refresh_cookie(&logout).expect("a clearing Set-Cookie");
    assert!(
        cleared.contains("Max-Age=0") && cleared.contains("Path=/v1/token"),
        "{cleared}"
    );
    let companion =
        set_cookie_named(&logout, "hallpass_refresh_binding").expect("the companion cleared");
    assert!(
        companion.contains("Max-Age=0") && has_attribute(&companion, "Path=/"),
        "{companion}"
    );
    let after = cookie_refresh(&app, &cookie, Some(PUBLIC_URL)).await;
    oauth_error(after, StatusCode::BAD_REQUEST, "invalid_grant").await;
}
