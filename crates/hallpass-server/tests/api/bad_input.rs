//! Bad input gets a clear problem, never a panic or a 5xx, and changes nothing.

use reqwest::{Method, StatusCode, header};
use serde_json::json;

use crate::helpers::{problem, spawn_app};

#[tokio::test]
async fn malformed_json_is_400() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/v1/signup"))
        .header(header::CONTENT_TYPE, "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::BAD_REQUEST, "malformed_json").await;
}

#[tokio::test]
async fn wrong_shapes_are_422_naming_the_problem() {
    let app = spawn_app().await;
    let response = app
        .post_json("/v1/signup", json!({ "username": 5, "password": "x" }))
        .await;
    let body = problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("username"),
        "{body}"
    );
    let response = app
        .post_json("/v1/login", json!({ "username": "alice" }))
        .await;
    let body = problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("password"),
        "{body}"
    );
}

#[tokio::test]
async fn bodies_over_64_kib_are_413() {
    let app = spawn_app().await;
    let big = json!({ "username": "alice", "password": "x".repeat(70_000) });
    problem(
        app.post_json("/v1/signup", big).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
    problem(
        app.post_json(
            "/v1/login",
            json!({ "username": "x".repeat(66_000), "password": "p" }),
        )
        .await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
}

#[tokio::test]
async fn wrong_content_types_are_415() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/v1/signup"))
        .body("username=alice")
        .send()
        .await
        .unwrap();
    problem(
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    app.signup("alice").await;
    let login = app.login("alice").await;
    let response = app
        .client
        .post(app.url("/v1/password"))
        .header(header::COOKIE, &login.cookie)
        .header("x-csrf-token", &login.csrf)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("current_password=a&new_password=b")
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

/// A pile of hostile bodies at every endpoint: all answered 4xx, none 5xx, no panics.
#[tokio::test]
async fn hostile_input_never_causes_a_server_error() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let login = app.login("alice").await;
    let bodies = [
        "".to_owned(),
        "null".to_owned(),
        "[]".to_owned(),
        "\"string\"".to_owned(),
        "{\"username\": null, \"password\": null}".to_owned(),
        "{\"username\": \"\\u0000\\u0000\\u0000\", \"password\": \"\\ud800\"}".to_owned(),
        format!(
            "{{\"username\": \"{}\", \"password\": \"{}\"}}",
            "é".repeat(100),
            "😀".repeat(200)
        ),
        "{\"scope\": 7}".to_owned(),
        "{\"current_password\": [], \"new_password\": {}}".to_owned(),
        "{\"roles\": [1, 2], \"disabled\": \"yes\"}".to_owned(),
        "\u{feff}{}".to_owned(),
        "{".repeat(10_000),
    ];
    let paths = [
        (Method::POST, "/v1/signup".to_owned()),
        (Method::POST, "/v1/login".to_owned()),
        (Method::POST, "/v1/logout".to_owned()),
        (Method::POST, "/v1/password".to_owned()),
        (Method::DELETE, format!("/v1/sessions/{}", "%00".repeat(10))),
        (
            Method::PATCH,
            format!("/v1/admin/users/{}", uuid::Uuid::new_v4()),
        ),
    ];
    for (method, path) in &paths {
        for body in &bodies {
            let response = app
                .client
                .request(method.clone(), app.url(path))
                .header(header::COOKIE, &login.cookie)
                .header("x-csrf-token", &login.csrf)
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            let status = response.status();
            assert!(
                status.is_client_error(),
                "{method} {path} {body:.40} -> {status}"
            );
            assert_eq!(
                response.headers()[header::CONTENT_TYPE],
                "application/problem+json",
                "{method} {path}"
            );
        }
    }
    assert_eq!(
        app.me(&login).await,
        StatusCode::OK,
        "nothing was changed by all that"
    );
}
