//! `[factors] required_for_roles`: an administrator without a second factor keeps the role's
//! powers for the grace period, then loses them until they set one up; signing in and setting
//! up the factor always work.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::Duration;

use super::enroll;
use crate::helpers::{Backend, PASSWORD, problem, spawn_app_with};

#[tokio::test]
async fn an_administrator_without_a_factor_loses_the_role_after_the_grace() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.factors.required_for_roles = vec!["admin".to_owned()];
        s.factors.enrollment_grace = "7d".parse().unwrap();
    })
    .await;
    app.signup("alice").await;
    let root = app.admin("root").await;
    // Within the grace (which starts now, the first time the rule meets root).
    assert_eq!(
        app.get_with("/v1/admin/users", &root.cookie).await.status(),
        StatusCode::OK
    );

    app.advance(Duration::days(8));
    let root = app.login("root").await;
    problem(
        app.get_with("/v1/admin/users", &root.cookie).await,
        StatusCode::FORBIDDEN,
        "mfa_enrollment_required",
    )
    .await;
    assert_eq!(
        app.page("/admin", Some(&root)).await.status(),
        StatusCode::FORBIDDEN
    );
    // Everything else still works, setting up the factor first of all.
    assert_eq!(app.me(&root).await, StatusCode::OK);
    let alice = app.login("alice").await;
    assert_eq!(app.me(&alice).await, StatusCode::OK);
    enroll(&app, &root).await;
    let users = app.get_with("/v1/admin/users", &root.cookie).await;
    assert_eq!(users.status(), StatusCode::OK);

    // Removing the only factor takes the powers away again at once: the grace was spent.
    let listed: Value = super::listed(&app, &root).await;
    let id = listed["factors"][0]["id"].as_str().unwrap();
    let removed = app
        .write(
            Method::DELETE,
            &format!("/v1/factors/{id}"),
            &root,
            Some(json!({ "current_password": PASSWORD })),
        )
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    problem(
        app.get_with("/v1/admin/users", &root.cookie).await,
        StatusCode::FORBIDDEN,
        "mfa_enrollment_required",
    )
    .await;
}

#[test]
fn an_unknown_role_in_the_policy_stops_the_server_from_starting() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hallpass.toml");
    std::fs::write(&file, "[factors]\nrequired_for_roles = [\"Not A Role!\"]\n").unwrap();
    let error = hallpass_server::config::load(
        Some(&file),
        Vec::<(String, String)>::new(),
        &hallpass_server::config::Overrides::default(),
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("factors.required_for_roles"),
        "{error}"
    );
}
