//! Forward auth (`GET /v1/auth/check`) for the browser's request behind it: a cookie-authenticated
//! write from another site is refused as hallpass's own writes are (issue 12 item 3,
//! docs/forward-auth.md).

use reqwest::{Method, StatusCode};

use crate::helpers::{Backend, Login, PUBLIC_URL, TestApp, problem, spawn_app, spawn_app_with};

/// Forward auth asked about a request with `method` (in `method_header`) and these browser headers.
async fn check(
    app: &TestApp,
    login: &Login,
    method_header: &str,
    method: &str,
    browser: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = app
        .client
        .get(app.url("/v1/auth/check"))
        .header("cookie", &login.cookie)
        .header(method_header, method);
    for (name, value) in browser {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

const CROSS_SITE: &[(&str, &str)] = &[
    ("sec-fetch-site", "cross-site"),
    ("origin", "https://evil.test"),
];

#[tokio::test]
async fn a_cross_site_cookie_write_is_refused_for_nginx_and_traefik() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let alice = app.login("alice").await;
    for header in ["x-original-method", "x-forwarded-method"] {
        for method in ["POST", "PUT", "PATCH", "DELETE", "PROPFIND"] {
            let response = check(&app, &alice, header, method, CROSS_SITE).await;
            problem(response, StatusCode::FORBIDDEN, "csrf_failed").await;
        }
        // An old browser without Sec-Fetch-Site: the Origin alone decides.
        let response = check(
            &app,
            &alice,
            header,
            "POST",
            &[("origin", "https://evil.test")],
        )
        .await;
        problem(response, StatusCode::FORBIDDEN, "csrf_failed").await;
    }
}

#[tokio::test]
async fn same_origin_allowed_and_non_browser_writes_pass() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.allowed_origins = vec!["https://app.example".to_owned()];
    })
    .await;
    app.signup("alice").await;
    let alice = app.login("alice").await;
    for browser in [
        &[("sec-fetch-site", "same-origin")][..],
        &[
            ("sec-fetch-site", "same-site"),
            ("origin", "https://app.example"),
        ],
        &[("origin", PUBLIC_URL)],
        // Neither header: curl or a native app, which a foreign page cannot drive.
        &[],
    ] {
        let response = check(&app, &alice, "x-original-method", "POST", browser).await;
        assert_eq!(response.status(), StatusCode::OK, "{browser:?}");
        assert_eq!(response.headers()["x-hallpass-username"], "alice");
    }
}

#[tokio::test]
async fn cross_site_reads_and_bearer_writes_pass() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let alice = app.login("alice").await;
    for method in ["GET", "HEAD", "OPTIONS"] {
        let response = check(&app, &alice, "x-forwarded-method", method, CROSS_SITE).await;
        assert_eq!(response.status(), StatusCode::OK, "{method}");
    }
    // Without the header the check cannot know, and treats the request as the GET it is.
    let response = app.get_with("/v1/auth/check", &alice.cookie).await;
    assert_eq!(response.status(), StatusCode::OK);
    // A Bearer token is not sent by a browser on its own: no forgery to stop.
    let tokens = app.tokens("alice").await;
    let mut request = app
        .client
        .request(Method::GET, app.url("/v1/auth/check"))
        .bearer_auth(&tokens.access)
        .header("x-forwarded-method", "POST");
    for (name, value) in CROSS_SITE {
        request = request.header(*name, *value);
    }
    assert_eq!(request.send().await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn disagreeing_or_unreadable_method_headers_are_refused() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let alice = app.login("alice").await;
    let both = app
        .client
        .get(app.url("/v1/auth/check"))
        .header("cookie", &alice.cookie)
        .header("x-forwarded-method", "GET")
        .header("x-original-method", "POST")
        .send()
        .await
        .unwrap();
    problem(both, StatusCode::FORBIDDEN, "csrf_failed").await;
    let twice = app
        .client
        .get(app.url("/v1/auth/check"))
        .header("cookie", &alice.cookie)
        .header("x-original-method", "GET")
        .header("x-original-method", "DELETE")
        .send()
        .await
        .unwrap();
    problem(twice, StatusCode::FORBIDDEN, "csrf_failed").await;
    let unreadable = check(&app, &alice, "x-original-method", "PO ST", &[]).await;
    problem(unreadable, StatusCode::FORBIDDEN, "csrf_failed").await;
    let agreeing = app
        .client
        .get(app.url("/v1/auth/check"))
        .header("cookie", &alice.cookie)
        .header("x-forwarded-method", "GET")
        .header("x-original-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(agreeing.status(), StatusCode::OK);
}
