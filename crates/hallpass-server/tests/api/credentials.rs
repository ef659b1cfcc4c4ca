//! What counts as a credential: a live session cookie, read strictly (never guessed between
//! two), or a Bearer token, which speaks for the request even with a cookie beside it.

use reqwest::{StatusCode, header};
use serde_json::Value;

use crate::helpers::{problem, spawn_app};

#[tokio::test]
async fn me_needs_a_live_session() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/v1/me")).send().await.unwrap();
    assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
    problem(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    for cookie in ["hallpass_session=garbage", "hallpass_session=", "other=1"] {
        let response = app.get_with("/v1/me", cookie).await;
        problem(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    }
    app.signup("alice").await;
    let login = app.login("alice").await;
    let response = app.get_with("/v1/me", &login.cookie).await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["username"], "alice");
    assert_eq!(body["session"]["id"], login.session_id.as_str());
    assert_eq!(body["csrf_token"], login.csrf.as_str());
}

#[tokio::test]
async fn a_cookie_sent_twice_is_refused_not_guessed() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let login = app.login("alice").await;
    let doubled = format!(
        "{}; hallpass_session=hp_st_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        login.cookie
    );
    problem(
        app.get_with("/v1/me", &doubled).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    // Look-alike names are not the session cookie.
    let lookalike = format!("Hallpass_Session={}", login.token);
    problem(
        app.get_with("/v1/me", &lookalike).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn a_bearer_token_speaks_for_the_request_and_a_cookie_beside_it_is_ignored() {
    let app = spawn_app().await;
    app.signup("alice").await;
    app.signup("bob").await;
    let cookie = app.login("alice").await;
    let tokens = app.tokens("bob").await;
    let with_both = |method, path: &str, bearer: &str| {
        app.client
            .request(method, app.url(path))
            .header(header::COOKIE, &cookie.cookie)
            .header(header::AUTHORIZATION, format!("Bearer {bearer}"))
    };
    let me: serde_json::Value = with_both(reqwest::Method::GET, "/v1/me", &tokens.access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["username"], "bob");
    assert_eq!(me["session"]["kind"], "token");
    // A bad token is an error, never a fallback to the cookie.
    let bad = with_both(reqwest::Method::GET, "/v1/me", "something")
        .send()
        .await
        .unwrap();
    problem(bad, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    // A Bearer logout ends the token session only, clears only the refresh cookie (and its
    // companion), and does not
    // ask the browser to clear the whole site's cookies.
    let logout = with_both(reqwest::Method::POST, "/v1/logout", &tokens.access)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::OK);
    assert!(!logout.headers().contains_key("clear-site-data"));
    let cleared: Vec<&str> = logout
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        cleared.len() == 2
            && cleared[0].starts_with("hallpass_refresh=;")
            && cleared[1].starts_with("hallpass_refresh_binding=;"),
        "{cleared:?}"
    );
    assert_eq!(
        app.bearer_me(&tokens.access).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.me(&cookie).await, StatusCode::OK);
}
