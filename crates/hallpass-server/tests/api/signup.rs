use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, problem, spawn_app};

#[tokio::test]
async fn signup_creates_a_user() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "/v1/signup",
            json!({ "username": "Alice", "password": PASSWORD, "email": "alice@example.com" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: serde_json::Value = response.json().await.unwrap();
    let user = &body["user"];
    assert_eq!(user["username"], "Alice");
    assert_eq!(user["email"], "alice@example.com");
    assert_eq!(user["roles"], json!([]));
    assert!(uuid::Uuid::parse_str(user["id"].as_str().unwrap()).is_ok());
    assert!(
        time::OffsetDateTime::parse(
            user["created_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339
        )
        .is_ok()
    );
    assert!(user.get("password_hash").is_none() && user.get("password").is_none());
}

#[tokio::test]
async fn usernames_are_unique_whatever_their_case() {
    let app = spawn_app().await;
    app.signup("Alice").await;
    let response = app
        .post_json(
            "/v1/signup",
            json!({ "username": "aLICE", "password": PASSWORD }),
        )
        .await;
    problem(response, StatusCode::CONFLICT, "username_taken").await;
}

#[tokio::test]
async fn every_invalid_field_is_reported_and_nothing_is_created() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "/v1/signup",
            json!({ "username": "a b", "password": "short", "email": "not-an-email" }),
        )
        .await;
    let body = problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["username", "email", "password"]);
    assert!(
        body["errors"][2]["message"]
            .as_str()
            .unwrap()
            .contains("at least 8")
    );
    let users = app
        .state
        .stores
        .users
        .list_users(&hallpass_store::UserQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(users.is_empty());
}

#[tokio::test]
async fn common_and_guessable_passwords_are_refused() {
    let app = spawn_app().await;
    for password in [
        "password1",
        "12345678910",
        "qwertyuiop",
        "mallory2024",
        "iloveyou!",
    ] {
        let response = app
            .post_json(
                "/v1/signup",
                json!({ "username": "mallory", "password": password }),
            )
            .await;
        let body = problem(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "password", "{password}");
    }
}

#[tokio::test]
async fn passwords_have_no_composition_rules_and_are_taken_exactly() {
    let app = spawn_app().await;
    // All lower case, no digits or symbols, spaces kept: accepted.
    let spaced = "  correct horse battery staple  ";
    let response = app
        .post_json(
            "/v1/signup",
            json!({ "username": "bob", "password": spaced }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(app.try_login("bob", spaced).await.status(), StatusCode::OK);
    assert_eq!(
        app.try_login("bob", spaced.trim()).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let long = "x".repeat(129);
    let response = app
        .post_json(
            "/v1/signup",
            json!({ "username": "carol", "password": long }),
        )
        .await;
    problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}
