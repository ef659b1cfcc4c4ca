use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, problem, spawn_app};

async fn user_id(app: &crate::helpers::TestApp, name: &str) -> String {
    let name = hallpass_core::user::Username::parse(name).unwrap();
    app.state
        .stores
        .users
        .user_by_username(&name)
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string()
}

#[tokio::test]
async fn non_admins_are_forbidden_and_strangers_unauthenticated() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let alice = app.login("alice").await;
    let bob = app.signup("bob").await;
    let bob_id = bob["user"]["id"].as_str().unwrap();
    problem(
        app.get_with("/v1/admin/users", &alice.cookie).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    problem(
        app.get_with("/v1/admin/audit", &alice.cookie).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let response = app
        .write(
            Method::POST,
            &format!("/v1/admin/users/{bob_id}/logout"),
            &alice,
            None,
        )
        .await;
    problem(response, StatusCode::FORBIDDEN, "forbidden").await;
    let response = app
        .write(
            Method::DELETE,
            &format!("/v1/admin/users/{bob_id}"),
            &alice,
            None,
        )
        .await;
    problem(response, StatusCode::FORBIDDEN, "forbidden").await;
    let response = app
        .client
        .get(app.url("/v1/admin/users"))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert!(
        app.state
            .stores
            .users
            .user_by_id(hallpass_core::user::UserId(bob_id.parse().unwrap()))
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn admins_list_and_search_users() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    for name in ["alice", "albert", "bob"] {
        app.signup(name).await;
    }
    let body: Value = app
        .get_with("/v1/admin/users", &admin.cookie)
        .await
        .json()
        .await
        .unwrap();
    let users = body["users"].as_array().unwrap();
    assert_eq!(users.len(), 4);
    let root = users.iter().find(|u| u["username"] == "root").unwrap();
    assert_eq!(root["roles"], json!(["admin"]));
    assert_eq!(root["disabled"], false);
    let body: Value = app
        .get_with("/v1/admin/users?search=AL&limit=10", &admin.cookie)
        .await
        .json()
        .await
        .unwrap();
    let mut names: Vec<&str> = body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["albert", "alice"]);
    let response = app
        .get_with("/v1/admin/users?limit=many", &admin.cookie)
        .await;
    problem(response, StatusCode::BAD_REQUEST, "invalid_request").await;
}

#[tokio::test]
async fn force_logout_ends_every_session_of_the_user() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    app.signup("alice").await;
    let laptop = app.login("alice").await;
    let phone = app.login("alice").await;
    let id = user_id(&app, "alice").await;
    let response = app
        .write(
            Method::POST,
            &format!("/v1/admin/users/{id}/logout"),
            &admin,
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.me(&laptop).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.me(&phone).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.me(&admin).await, StatusCode::OK);
    let unknown = uuid::Uuid::new_v4();
    let response = app
        .write(
            Method::POST,
            &format!("/v1/admin/users/{unknown}/logout"),
            &admin,
            None,
        )
        .await;
    problem(response, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn disabling_a_user_kills_their_sessions_at_once() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    app.signup("alice").await;
    let alice = app.login("alice").await;
    let id = user_id(&app, "alice").await;
    let path = format!("/v1/admin/users/{id}");
    let response = app
        .write(
            Method::PATCH,
            &path,
            &admin,
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["disabled"], true);
    assert_eq!(app.me(&alice).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.try_login("alice", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Enabling again does not resurrect the old sessions; a new login works.
    app.write(
        Method::PATCH,
        &path,
        &admin,
        Some(json!({ "disabled": false })),
    )
    .await;
    assert_eq!(app.me(&alice).await, StatusCode::UNAUTHORIZED);
    app.login("alice").await;
}

#[tokio::test]
async fn roles_are_granted_and_validated() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    app.signup("alice").await;
    let id = user_id(&app, "alice").await;
    let path = format!("/v1/admin/users/{id}");
    let response = app
        .write(
            Method::PATCH,
            &path,
            &admin,
            Some(json!({ "roles": ["Admin!"] })),
        )
        .await;
    let body = problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "roles");
    let response = app
        .write(
            Method::PATCH,
            &path,
            &admin,
            Some(json!({ "roles": ["editor", "admin"] })),
        )
        .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["roles"], json!(["admin", "editor"]));
    let alice = app.login("alice").await;
    assert_eq!(
        app.get_with("/v1/admin/users", &alice.cookie)
            .await
            .status(),
        StatusCode::OK
    );
    let response = app
        .write(
            Method::PATCH,
            &format!("/v1/admin/users/{}", uuid::Uuid::new_v4()),
            &admin,
            Some(json!({})),
        )
        .await;
    problem(response, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn deleting_a_user_ends_their_sessions() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    app.signup("alice").await;
    let alice = app.login("alice").await;
    let id = user_id(&app, "alice").await;
    let path = format!("/v1/admin/users/{id}");
    assert_eq!(
        app.write(Method::DELETE, &path, &admin, None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.me(&alice).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.try_login("alice", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    problem(
        app.write(Method::DELETE, &path, &admin, None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // The name is free again.
    app.signup("alice").await;
}

#[tokio::test]
async fn the_audit_log_records_logins_logouts_and_admin_actions_without_secrets() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    app.signup("alice").await;
    let alice = app.login("alice").await;
    app.try_login("alice", "the wrong password").await;
    app.try_login("correct-horse-typed-as-name", "the wrong password")
        .await;
    app.write(Method::POST, "/v1/logout", &alice, None).await;
    let id = user_id(&app, "alice").await;
    app.write(
        Method::POST,
        &format!("/v1/admin/users/{id}/logout"),
        &admin,
        None,
    )
    .await;

    let response = app
        .get_with("/v1/admin/audit?limit=100", &admin.cookie)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    for secret in [
        PASSWORD,
        "the wrong password",
        alice.token.as_str(),
        alice.csrf.as_str(),
        admin.token.as_str(),
    ] {
        assert!(!text.contains(secret), "the audit log holds a secret");
    }
    let body: Value = serde_json::from_str(&text).unwrap();
    let kinds: Vec<&str> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "signup",
        "login_succeeded",
        "login_failed",
        "logout",
        "admin_force_logout",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    let failed: Value = app
        .get_with("/v1/admin/audit?kind=login_failed", &admin.cookie)
        .await
        .json()
        .await
        .unwrap();
    let failed = failed["events"].as_array().unwrap();
    assert_eq!(failed.len(), 2);
    assert!(failed.iter().all(|e| e["ip"] == "127.0.0.1"));
    let mine: Value = app
        .get_with(&format!("/v1/admin/audit?user={id}&limit=2"), &admin.cookie)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["events"].as_array().unwrap().len(), 2);
    let next = mine["next"].as_i64().unwrap();
    let older: Value = app
        .get_with(
            &format!("/v1/admin/audit?user={id}&before={next}"),
            &admin.cookie,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        older["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["id"].as_i64().unwrap() < next)
    );
    problem(
        app.get_with("/v1/admin/audit?kind=nope", &admin.cookie)
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
}
