//! Hallpass never runs out of administrators: any disable, demotion or deletion that would
//! leave no enabled administrator is refused with 409 `last_admin` and changes nothing, through
//! the JSON API and the console alike, however requests race (across nodes too: the check is in
//! the store's transaction).

use hallpass_store::UserQuery;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    Backend, Login, TestApp, postgres_available, problem, spawn_app, spawn_app_with,
};

fn id_of(login: &Login) -> String {
    login.body["user"]["id"].as_str().unwrap().to_owned()
}

async fn roles_of(app: &TestApp, login: &Login) -> Value {
    let me: Value = app
        .get_with("/v1/me", &login.cookie)
        .await
        .json()
        .await
        .unwrap();
    me["user"]["roles"].clone()
}

async fn enabled_admins(app: &TestApp) -> usize {
    let everyone = UserQuery {
        limit: 1000,
        ..UserQuery::default()
    };
    let users = app.state.stores.users.list_users(&everyone).await.unwrap();
    users.iter().filter(|u| u.is_enabled_admin()).count()
}

async fn patch(app: &TestApp, by: &Login, target: &str, body: Value) -> reqwest::Response {
    app.write(
        Method::PATCH,
        &format!("/v1/admin/users/{target}"),
        by,
        Some(body),
    )
    .await
}

#[tokio::test]
async fn the_only_admin_cannot_demote_themselves() {
    let app = spawn_app().await;
    let root = app.admin("root").await;
    let response = patch(&app, &root, &id_of(&root), json!({ "roles": [] })).await;
    problem(response, StatusCode::CONFLICT, "last_admin").await;
    assert_eq!(roles_of(&app, &root).await, json!(["admin"]));
}

#[tokio::test]
async fn the_only_admin_cannot_disable_themselves() {
    let app = spawn_app().await;
    let root = app.admin("root").await;
    let response = patch(&app, &root, &id_of(&root), json!({ "disabled": true })).await;
    problem(response, StatusCode::CONFLICT, "last_admin").await;
    assert_eq!(
        app.me(&root).await,
        StatusCode::OK,
        "still enabled, still logged in"
    );
    assert_eq!(enabled_admins(&app).await, 1);
}

#[tokio::test]
async fn the_only_admin_cannot_delete_themselves() {
    let app = spawn_app().await;
    let root = app.admin("root").await;
    let response = app
        .write(
            Method::DELETE,
            &format!("/v1/admin/users/{}", id_of(&root)),
            &root,
            None,
        )
        .await;
    problem(response, StatusCode::CONFLICT, "last_admin").await;
    assert_eq!(app.me(&root).await, StatusCode::OK);
    assert_eq!(roles_of(&app, &root).await, json!(["admin"]));
}

#[tokio::test]
async fn an_admin_may_demote_another_while_one_remains() {
    let app = spawn_app().await;
    let root = app.admin("root").await;
    let bob = app.admin("bob").await;
    let response = patch(&app, &root, &id_of(&bob), json!({ "roles": [] })).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(roles_of(&app, &bob).await, json!([]));
    let response = patch(&app, &root, &id_of(&root), json!({ "roles": [] })).await;
    problem(response, StatusCode::CONFLICT, "last_admin").await;
}

#[tokio::test]
async fn the_console_applies_the_same_rule() {
    let app = spawn_app().await;
    let root = app.admin("root").await;
    let alone = app
        .post_form(
            &format!("/admin/users/{}/roles", id_of(&root)),
            &root,
            &[("csrf_token", root.csrf.as_str())],
        )
        .await;
    assert_eq!(alone.status(), StatusCode::CONFLICT);
    assert_eq!(roles_of(&app, &root).await, json!(["admin"]));
    app.admin("bob").await;
    let with_another = app
        .post_form(
            &format!("/admin/users/{}/roles", id_of(&root)),
            &root,
            &[("csrf_token", root.csrf.as_str())],
        )
        .await;
    assert_eq!(
        with_another.status(),
        StatusCode::OK,
        "another administrator remains, so the console lets root step down"
    );
    assert_eq!(roles_of(&app, &root).await, json!([]));
}

/// Two administrators demoting each other at the same moment: at most one wins.
async fn concurrent_mutual_demotions_leave_an_admin(app: TestApp) {
    let a = app.admin("alpha").await;
    let b = app.admin("bravo").await;
    let (a_id, b_id) = (id_of(&a), id_of(&b));
    for round in 0..10 {
        let (ab, ba) = tokio::join!(
            patch(&app, &a, &b_id, json!({ "roles": [] })),
            patch(&app, &b, &a_id, json!({ "roles": [] })),
        );
        let statuses = [ab.status(), ba.status()];
        assert_eq!(enabled_admins(&app).await, 1, "round {round}: {statuses:?}");
        assert!(
            statuses.contains(&StatusCode::OK),
            "round {round}: one of them wins: {statuses:?}"
        );
        // The survivor promotes the other again for the next round.
        let (survivor, demoted) = if roles_of(&app, &a).await == json!(["admin"]) {
            (&a, &b)
        } else {
            (&b, &a)
        };
        let again = patch(
            &app,
            survivor,
            &id_of(demoted),
            json!({ "roles": ["admin"] }),
        )
        .await;
        assert_eq!(again.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn concurrent_mutual_demotions_leave_an_admin_on_sqlite() {
    concurrent_mutual_demotions_leave_an_admin(spawn_app_with(Backend::Sqlite, |_| {}).await).await;
}

#[tokio::test]
async fn concurrent_mutual_demotions_leave_an_admin_on_postgres() {
    if postgres_available() {
        concurrent_mutual_demotions_leave_an_admin(spawn_app_with(Backend::Postgres, |_| {}).await)
            .await;
    }
}
