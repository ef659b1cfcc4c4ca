//! CORS (docs/design.md §6): pages on the origins in `allowed_origins` may call the API with
//! credentials; no other origin is ever named in `Access-Control-Allow-Origin`.

use reqwest::{Method, StatusCode, header};

use crate::helpers::{Backend, TestApp, spawn_app_with};

const SPA: &str = "http://app.hallpass.test";

async fn app() -> TestApp {
    spawn_app_with(Backend::Sqlite, |s| {
        s.allowed_origins = vec![SPA.to_owned()]
    })
    .await
}

/// A GET from a page on `origin`.
async fn get_from(app: &TestApp, path: &str, origin: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header(header::ORIGIN, origin)
        .send()
        .await
        .unwrap()
}

/// A preflight from a page on `origin` for a POST to `path`.
async fn preflight(app: &TestApp, path: &str, origin: &str, headers: &str) -> reqwest::Response {
    let mut request = app
        .client
        .request(Method::OPTIONS, app.url(path))
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST");
    if !headers.is_empty() {
        request = request.header(header::ACCESS_CONTROL_REQUEST_HEADERS, headers);
    }
    request.send().await.unwrap()
}

fn names_an_origin(response: &reqwest::Response) -> bool {
    response
        .headers()
        .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
}

#[tokio::test]
async fn a_listed_origin_is_answered_with_credentials_and_vary() {
    let app = app().await;
    let response = get_from(&app, "/v1/me", SPA).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let headers = response.headers();
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], SPA);
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
    let exposed = headers[header::ACCESS_CONTROL_EXPOSE_HEADERS]
        .to_str()
        .unwrap();
    assert!(exposed.contains("www-authenticate") && exposed.contains("retry-after"));
    let vary: Vec<&str> = headers
        .get_all(header::VARY)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(vary.iter().any(|v| v.contains("origin")), "{vary:?}");
}

#[tokio::test]
async fn a_preflight_from_a_listed_origin_is_allowed_and_cached() {
    let app = app().await;
    let wanted = "content-type,authorization,x-csrf-token";
    let response = preflight(&app, "/v1/token", SPA, wanted).await;
    assert!(response.status().is_success());
    let headers = response.headers();
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], SPA);
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
    assert_eq!(headers[header::ACCESS_CONTROL_MAX_AGE], "600");
    let allowed = headers[header::ACCESS_CONTROL_ALLOW_HEADERS]
        .to_str()
        .unwrap();
    for wanted in ["content-type", "authorization", "x-csrf-token"] {
        assert!(allowed.contains(wanted), "{allowed}");
    }
}

#[tokio::test]
async fn other_origins_are_never_named_and_never_get_a_wildcard() {
    let app = app().await;
    for origin in [
        "https://evil.test",
        "null",
        "http://app.hallpass.test.evil.test",
        "http://evilapp.hallpass.test",
        "https://app.hallpass.test",
        "http://app.hallpass.test:8080",
        "http://APP.hallpass.test.",
    ] {
        for path in [
            "/v1/me",
            "/v1/token",
            "/v1/session/events",
            "/.well-known/jwks.json",
        ] {
            let response = preflight(&app, path, origin, "").await;
            assert!(
                !names_an_origin(&response),
                "{origin} {path}: {:?}",
                response.headers()
            );
            let simple = get_from(&app, path, origin).await;
            assert!(!names_an_origin(&simple), "{origin} {path}");
        }
    }
}

#[tokio::test]
async fn pages_send_no_cors_headers_even_to_listed_origins() {
    let app = app().await;
    assert!(!names_an_origin(&get_from(&app, "/login", SPA).await));
}

#[tokio::test]
async fn the_sdk_is_public_code_any_page_may_import() {
    let app = app().await;
    let response = get_from(&app, "/sdk/hallpass.js", "https://anywhere.example").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(response.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    assert!(
        !response
            .headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
    );
    assert!(response.text().await.unwrap().contains("createClient"));
    let types = get_from(&app, "/sdk/hallpass.d.ts", "https://anywhere.example").await;
    assert_eq!(types.status(), StatusCode::OK);
}
