//! `/demo/board`: authentication (who may write) versus authorization (who may change what),
//! driven through the forms as a browser would.

use reqwest::{StatusCode, header};

use crate::{
    helpers::{Backend, Login, TestApp, redis_url, spawn_app, spawn_app_with},
    pages::hidden_token,
};

/// Writes a post through the form; returns its path.
async fn write(app: &TestApp, login: &Login, title: &str, body: &str) -> String {
    let response = app
        .post_form(
            "/demo/board/new",
            login,
            &[
                ("title", title),
                ("body", body),
                ("csrf_token", &login.csrf),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "publish");
    response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned()
}

async fn count(app: &TestApp) -> u64 {
    app.state.stores.posts.count_posts().await.unwrap()
}

#[tokio::test]
async fn anyone_reads_members_write_and_strangers_are_sent_to_log_in() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let alice = app.login("alice").await;
    let path = write(&app, &alice, "Hello board", "First post.\nSecond line.").await;

    let list = app.page("/demo/board", None).await;
    assert_eq!(list.status(), StatusCode::OK);
    let html = list.text().await.unwrap();
    assert!(html.contains("Hello board") && html.contains("alice"));
    assert!(html.contains("Log in to write") && !html.contains("/static/live.js"));

    let post = app.page(&path, None).await.text().await.unwrap();
    assert!(post.contains("First post.\nSecond line."));
    assert!(
        !post.contains("data-testid=\"edit-post\""),
        "strangers get no edit button"
    );

    let form = app.page("/demo/board/new", None).await;
    assert_eq!(form.headers()[header::LOCATION], "/login");
    let stranger = app
        .client
        .post(app.url("/demo/board/new"))
        .header("sec-fetch-site", "same-origin")
        .form(&[("title", "x"), ("body", "y"), ("csrf_token", "z")])
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.headers()[header::LOCATION], "/login");
    assert_eq!(count(&app).await, 1);
}

#[tokio::test]
async fn only_the_author_or_an_admin_may_edit_or_delete() {
    let app = spawn_app().await;
    app.signup("alice").await;
    app.signup("bob").await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let root = app.admin("root").await;
    let path = write(&app, &alice, "Alice's post", "Mine.").await;

    // Bob sees no buttons, and going around them is refused with 403, his valid token or not.
    let seen_by_bob = app.page(&path, Some(&bob)).await.text().await.unwrap();
    assert!(!seen_by_bob.contains("data-testid=\"edit-post\""));
    let edit = app.page(&format!("{path}/edit"), Some(&bob)).await;
    assert_eq!(edit.status(), StatusCode::FORBIDDEN);
    let fields = [
        ("title", "Bob was here"),
        ("body", "Bob was here"),
        ("csrf_token", bob.csrf.as_str()),
    ];
    let update = app.post_form(&format!("{path}/edit"), &bob, &fields).await;
    assert_eq!(update.status(), StatusCode::FORBIDDEN);
    let delete = app
        .post_form(
            &format!("{path}/delete"),
            &bob,
            &[("csrf_token", &bob.csrf)],
        )
        .await;
    assert_eq!(delete.status(), StatusCode::FORBIDDEN);
    assert!(
        delete
            .text()
            .await
            .unwrap()
            .contains("only its owner or an administrator")
    );
    let after = app.page(&path, None).await.text().await.unwrap();
    assert!(after.contains("Alice&#x27;s post") && !after.contains("Bob was here"));

    // The author edits, a minute later.
    app.advance(time::Duration::minutes(1));
    let edit_page = app.page(&format!("{path}/edit"), Some(&alice)).await;
    assert_eq!(edit_page.status(), StatusCode::OK);
    assert_eq!(hidden_token(&edit_page.text().await.unwrap()), alice.csrf);
    let fields = [
        ("title", "Alice, edited"),
        ("body", "Still mine."),
        ("csrf_token", alice.csrf.as_str()),
    ];
    let saved = app
        .post_form(&format!("{path}/edit"), &alice, &fields)
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let edited = app.page(&path, Some(&alice)).await.text().await.unwrap();
    assert!(edited.contains("Alice, edited") && edited.contains("edited</span>"));
    assert!(edited.contains("data-testid=\"edit-post\""));

    // An administrator may delete anyone's post.
    let seen_by_root = app.page(&path, Some(&root)).await.text().await.unwrap();
    assert!(seen_by_root.contains("data-testid=\"delete-post\""));
    let removed = app
        .post_form(
            &format!("{path}/delete"),
            &root,
            &[("csrf_token", &root.csrf)],
        )
        .await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.page(&path, None).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(count(&app).await, 0);
}

#[tokio::test]
async fn writes_from_another_origin_or_without_the_token_change_nothing() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let alice = app.login("alice").await;
    let path = write(&app, &alice, "Keep me", "Here.").await;
    let attempts: [(&str, Vec<(&str, &str)>); 3] = [
        (
            "/demo/board/new",
            vec![("title", "forged"), ("body", "forged")],
        ),
        (
            "/demo/board/new",
            vec![
                ("title", "forged"),
                ("body", "forged"),
                ("csrf_token", "nope"),
            ],
        ),
        (
            "/demo/board/new",
            vec![
                ("title", "forged"),
                ("body", "forged"),
                ("csrf_token", alice.csrf.as_str()),
            ],
        ),
    ];
    for (i, (target, fields)) in attempts.iter().enumerate() {
        let mut request = app
            .client
            .post(app.url(target))
            .header(header::COOKIE, &alice.cookie)
            .form(fields);
        // The last carries the right token but comes from a page on another origin.
        request = if i == 2 {
            request
                .header("sec-fetch-site", "same-site")
                .header(header::ORIGIN, "http://localhost:9999")
        } else {
            request.header("sec-fetch-site", "same-origin")
        };
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "attempt {i}");
    }
    let delete = app
        .client
        .post(app.url(&format!("{path}/delete")))
        .header(header::COOKIE, &alice.cookie)
        .header("sec-fetch-site", "cross-site")
        .header(header::ORIGIN, "https://evil.test")
        .form(&[("csrf_token", alice.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), StatusCode::FORBIDDEN);
    assert_eq!(count(&app).await, 1);
}

#[tokio::test]
async fn user_text_is_shown_as_text_never_as_markup() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let alice = app.login("alice").await;
    let evil = r#"<script>alert(1)</script><img src=x onerror="alert(2)">"#;
    let path = write(&app, &alice, evil, evil).await;
    for view in [
        app.page(&path, None).await,
        app.page("/demo/board", None).await,
    ] {
        let html = view.text().await.unwrap();
        assert!(
            !html.contains("<script>alert") && !html.contains("<img src=x"),
            "{html}"
        );
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
            "{html}"
        );
    }
}

#[tokio::test]
async fn invalid_posts_are_refused_with_the_reasons_and_nothing_saved() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let alice = app.login("alice").await;
    let long_title = "t".repeat(121);
    let response = app
        .post_form(
            "/demo/board/new",
            &alice,
            &[
                ("title", &long_title),
                ("body", "   "),
                ("csrf_token", &alice.csrf),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("title-error") && html.contains("body-error"),
        "{html}"
    );
    assert_eq!(count(&app).await, 0);
    for bad in [
        "/demo/board/not-a-uuid",
        "/demo/board/00000000-0000-0000-0000-000000000000/edit",
    ] {
        let response = app.page(bad, Some(&alice)).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{bad}");
    }
}

/// Publishes through the form, whatever the answer.
async fn try_write(app: &TestApp, login: &Login, title: &str, body: &str) -> reqwest::Response {
    app.post_form(
        "/demo/board/new",
        login,
        &[
            ("title", title),
            ("body", body),
            ("csrf_token", &login.csrf),
        ],
    )
    .await
}

#[tokio::test]
async fn oversize_posts_are_refused_and_nothing_stored() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let alice = app.login("alice").await;
    let body = "b".repeat(hallpass_core::post::BODY_MAX_CHARS + 1);
    let response = try_write(&app, &alice, "Big", &body).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("body-error"));
    assert_eq!(count(&app).await, 0);
}

#[tokio::test]
async fn an_account_may_publish_ten_posts_a_minute() {
    let app = spawn_app().await;
    app.signup("alice").await;
    app.signup("bob").await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    for n in 0..10 {
        write(&app, &alice, &format!("Post {n}"), "Body.").await;
    }
    let refused = try_write(&app, &alice, "Eleventh", "Body.").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(count(&app).await, 10);
    // The budget is per account.
    write(&app, &bob, "Bob's", "Body.").await;
    app.advance(time::Duration::seconds(60));
    write(&app, &alice, "Next minute", "Body.").await;
    assert_eq!(count(&app).await, 12);
}

/// With Redis, the budget is the account's over every node.
#[tokio::test]
async fn the_post_budget_is_shared_by_every_node() {
    let Some(redis) = redis_url() else { return };
    let prefix = format!("hallpass_test_{}:", uuid::Uuid::new_v4().simple());
    let a = spawn_app_with(Backend::Sqlite, |s| {
        s.redis_url = Some(redis);
        s.redis_key_prefix = prefix;
        s.rate_limit.posts_per_minute = 2;
    })
    .await;
    let b = a.another_node().await;
    a.signup("alice").await;
    let alice = a.login("alice").await;
    write(&a, &alice, "One", "Body.").await;
    write(&b, &alice, "Two", "Body.").await;
    assert_eq!(
        try_write(&a, &alice, "Three", "Body.").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        try_write(&b, &alice, "Three", "Body.").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}
