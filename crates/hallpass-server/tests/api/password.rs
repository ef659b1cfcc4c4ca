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

#[tokio::test]
async fn failed_logins_elsewhere_do_not_stop_the_owner_changing_the_password() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let laptop = app.login("alice").await;
    for _ in 0..6 {
        app.try_login("alice", "wrong wrong wrong").await;
    }
    assert_eq!(
        app.try_login("alice", PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the account is locked for logins without a known browser"
    );
    let body = json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD });
    let response = app
        .write(Method::POST, "/v1/password", &laptop, Some(body))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn wrong_current_passwords_lock_that_session_only() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let stolen = app.login("alice").await;
    let owner = app.login("alice").await;
    let wrong = json!({ "current_password": "not it at all", "new_password": NEW_PASSWORD });
    for _ in 0..5 {
        let response = app
            .write(Method::POST, "/v1/password", &stolen, Some(wrong.clone()))
            .await;
        problem(response, StatusCode::FORBIDDEN, "invalid_credentials").await;
    }
    let right = json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD });
    let response = app
        .write(Method::POST, "/v1/password", &stolen, Some(right.clone()))
        .await;
    problem(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    assert_eq!(
        app.try_login("alice", PASSWORD).await.status(),
        StatusCode::OK,
        "nothing changed, and the account itself is not locked"
    );
    let response = app
        .write(Method::POST, "/v1/password", &owner, Some(right))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}
