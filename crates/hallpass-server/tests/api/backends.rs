//! The core flows on PostgreSQL too (SQLite runs them in every other module).

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Backend, PASSWORD, postgres_available, problem, spawn_app_with};

#[tokio::test]
async fn sessions_work_end_to_end_on_postgres() {
    if !postgres_available() {
        return;
    }
    let app = spawn_app_with(Backend::Postgres, |s| s.max_sessions_per_user = Some(2)).await;
    app.signup("alice").await;
    problem(
        app.post_json(
            "/v1/signup",
            json!({ "username": "ALICE", "password": PASSWORD }),
        )
        .await,
        StatusCode::CONFLICT,
        "username_taken",
    )
    .await;
    let first = app.login("alice").await;
    app.advance(time::Duration::seconds(1));
    let second = app.login("alice").await;
    app.advance(time::Duration::seconds(1));
    let third = app.login("alice").await;
    assert_eq!(
        app.me(&first).await,
        StatusCode::UNAUTHORIZED,
        "evicted by the limit"
    );
    assert_eq!(app.me(&second).await, StatusCode::OK);
    let response = app
        .write(
            Method::POST,
            "/v1/logout",
            &third,
            Some(json!({ "scope": "others" })),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(app.me(&second).await, StatusCode::UNAUTHORIZED);
    app.advance(time::Duration::hours(3));
    assert_eq!(
        app.me(&third).await,
        StatusCode::UNAUTHORIZED,
        "idle expiry"
    );
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
}

#[tokio::test]
async fn disabling_on_postgres_ends_sessions_at_once() {
    if !postgres_available() {
        return;
    }
    let app = spawn_app_with(Backend::Postgres, |_| {}).await;
    let admin = app.admin("root").await;
    let alice_user = app.signup("alice").await;
    let alice = app.login("alice").await;
    let id = alice_user["user"]["id"].as_str().unwrap();
    let response = app
        .write(
            Method::PATCH,
            &format!("/v1/admin/users/{id}"),
            &admin,
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(app.me(&alice).await, StatusCode::UNAUTHORIZED);
    let audit: serde_json::Value = app
        .get_with("/v1/admin/audit?kind=admin_user_updated", &admin.cookie)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["events"].as_array().unwrap().len(), 1);
}
