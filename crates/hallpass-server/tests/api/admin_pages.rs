//! `/admin`: the console, driven through its forms.

use reqwest::{StatusCode, header};

use crate::helpers::spawn_app;

#[tokio::test]
async fn only_administrators_get_in() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let alice = app.login("alice").await;
    for path in ["/admin", "/admin/audit"] {
        let stranger = app.page(path, None).await;
        assert_eq!(stranger.headers()[header::LOCATION], "/login", "{path}");
        let member = app.page(path, Some(&alice)).await;
        assert_eq!(member.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(member.text().await.unwrap().contains("admin"));
    }
    let root = app.admin("root").await;
    let console = app.page("/admin?q=ali", Some(&root)).await;
    assert_eq!(console.status(), StatusCode::OK);
    let html = console.text().await.unwrap();
    assert!(
        html.contains(">alice</a>") && !html.contains(">root</a>"),
        "{html}"
    );
    // A member's forged console write is refused even with their own valid token.
    let id = alice.body["user"]["id"].as_str().unwrap();
    let forged = app
        .post_form(
            &format!("/admin/users/{id}/roles"),
            &alice,
            &[("admin", "on"), ("csrf_token", &alice.csrf)],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let me = app
        .page("/v1/me", Some(&alice))
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(me["user"]["roles"], serde_json::json!([]));
}

#[tokio::test]
async fn disabling_ends_every_session_and_force_logout_too() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let alice = app.login("alice").await;
    let root = app.admin("root").await;
    let id = alice.body["user"]["id"].as_str().unwrap();
    let page = app
        .page(&format!("/admin/users/{id}"), Some(&root))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&alice.session_id),
        "the user's sessions are listed"
    );

    let logout = app
        .post_form(
            &format!("/admin/users/{id}/logout"),
            &root,
            &[("csrf_token", &root.csrf)],
        )
        .await;
    assert_eq!(logout.status(), StatusCode::OK);
    assert!(logout.text().await.unwrap().contains("1 session(s) ended"));
    assert_eq!(app.me(&alice).await, StatusCode::UNAUTHORIZED);

    let again = app.login("alice").await;
    let disable = app
        .post_form(
            &format!("/admin/users/{id}/disabled"),
            &root,
            &[("disabled", "true"), ("csrf_token", &root.csrf)],
        )
        .await;
    assert_eq!(disable.status(), StatusCode::OK);
    assert_eq!(app.me(&again).await, StatusCode::UNAUTHORIZED);
    let refused = app.try_login("alice", crate::helpers::PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    let audit = app
        .page(
            "/admin/audit?kind=admin_force_logout&user=alice",
            Some(&root),
        )
        .await;
    assert_eq!(audit.status(), StatusCode::OK);
    let html = audit.text().await.unwrap();
    let table = html
        .split("data-testid=\"audit\"")
        .nth(1)
        .expect("the audit table");
    assert!(
        table.contains(">admin_force_logout<") && !table.contains(">admin_user_updated<"),
        "{table}"
    );
}

#[tokio::test]
async fn one_session_can_be_ended_and_a_user_deleted() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let laptop = app.login("alice").await;
    let phone = app.login("alice").await;
    let root = app.admin("root").await;
    let id = laptop.body["user"]["id"].as_str().unwrap();
    let path = format!("/admin/users/{id}/sessions/{}/revoke", laptop.session_id);
    let ended = app
        .post_form(&path, &root, &[("csrf_token", &root.csrf)])
        .await;
    assert_eq!(ended.status(), StatusCode::OK);
    assert_eq!(app.me(&laptop).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.me(&phone).await, StatusCode::OK);

    let deleted = app
        .post_form(
            &format!("/admin/users/{id}/delete"),
            &root,
            &[("csrf_token", &root.csrf)],
        )
        .await;
    assert_eq!(deleted.headers()[header::LOCATION], "/admin");
    assert_eq!(app.me(&phone).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.page(&format!("/admin/users/{id}"), Some(&root))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_only_administrator_cannot_lock_themselves_out_from_the_console() {
    let app = spawn_app().await;
    let root = app.admin("root").await;
    let id = root.body["user"]["id"].as_str().unwrap();
    for (path, fields) in [
        (
            format!("/admin/users/{id}/roles"),
            vec![("csrf_token", root.csrf.as_str())],
        ),
        (
            format!("/admin/users/{id}/disabled"),
            vec![("disabled", "true"), ("csrf_token", root.csrf.as_str())],
        ),
        (
            format!("/admin/users/{id}/delete"),
            vec![("csrf_token", root.csrf.as_str())],
        ),
    ] {
        let response = app.post_form(&path, &root, &fields).await;
        assert_eq!(response.status(), StatusCode::CONFLICT, "{path}");
    }
    let me = app
        .page("/v1/me", Some(&root))
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(me["user"]["roles"], serde_json::json!(["admin"]));
}
