use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{PASSWORD, problem, spawn_app};

const NEW_PASSWORD: &str = "amber lantern quietly orbits";

#[tokio::test]
async fn changing_the_password_ends_every_other_session() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let laptop = app.login("alice").await;
    let phone = app.login("alice").await;
    let body = json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD });
    let response = app
        .write(Method::POST, "/v1/password", &laptop, Some(body))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.me(&laptop).await, StatusCode::OK);
    assert_eq!(app.me(&phone).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.try_login("alice", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.try_login("alice", NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_wrong_current_password_is_403_and_changes_nothing() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let laptop = app.login("alice").await;
    let phone = app.login("alice").await;
    let body = json!({ "current_password": "not it at all", "new_password": NEW_PASSWORD });
    let response = app
        .write(Method::POST, "/v1/password", &laptop, Some(body))
        .await;
    problem(response, StatusCode::FORBIDDEN, "invalid_credentials").await;
    assert_eq!(app.me(&phone).await, StatusCode::OK);
    assert_eq!(
        app.try_login("alice", PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_weak_new_password_is_422_and_changes_nothing() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let laptop = app.login("alice").await;
    let body = json!({ "current_password": PASSWORD, "new_password": "alice123" });
    let response = app
        .write(Method::POST, "/v1/password", &laptop, Some(body))
        .await;
    let problem = problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "new_password");
    assert_eq!(
        app.try_login("alice", PASSWORD).await.status(),
        StatusCode::OK
    );
}
