//! "Forgot password": the link arrives over SMTP, works once, ends every session.

use reqwest::StatusCode;
use serde_json::json;

use super::verified_user;
use crate::helpers::{
    Backend, PASSWORD, PUBLIC_URL, SmtpSink, TestApp, problem, spawn_app_with_mail,
};

const NEW_PASSWORD: &str = "copper lantern marmalade nine";

async fn forgot(app: &TestApp, login: &str) {
    let response = app
        .post_json("/v1/password/forgot", json!({ "login": login }))
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
}

async fn reset(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.post_json(
        "/v1/password/reset",
        json!({ "token": token, "new_password": password }),
    )
    .await
}

fn reset_token(mail: &crate::helpers::ReceivedMail) -> String {
    mail.token(&format!("{PUBLIC_URL}/reset?token="))
}

#[tokio::test]
async fn a_reset_link_arrives_works_once_and_ends_every_session() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app_with_mail(Backend::Sqlite, &sink, |_| {}).await;
    verified_user(&app, &sink, "alice", "alice@example.com").await;
    let browser = app.login("alice").await;

    forgot(&app, "alice").await;
    let mails = sink.wait_for("alice@example.com", 2).await;
    let mail = &mails[1];
    // The headers a mail client relies on, and both parts.
    assert_eq!(mail.header("to"), "alice@example.com");
    assert!(
        mail.header("from").contains("no-reply@hallpass.test"),
        "{:?}",
        mail.headers
    );
    assert!(!mail.header("date").is_empty());
    assert!(
        mail.header("message-id").ends_with("@hallpass.test>"),
        "{:?}",
        mail.headers
    );
    assert_eq!(mail.header("subject"), "Reset your password");
    assert_eq!(mail.content_type, "multipart/alternative");
    assert!(
        mail.parts.contains(&"text/plain".to_owned())
            && mail.parts.contains(&"text/html".to_owned())
    );
    let token = reset_token(mail);
    assert!(
        mail.html.contains(&token),
        "the HTML part carries the same link"
    );

    // Opening the link shows the form and spends nothing.
    let page = app.page(&format!("/reset?token={token}"), None).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("name=\"new_password\""));

    assert_eq!(
        reset(&app, &token, NEW_PASSWORD).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.me(&browser).await,
        StatusCode::UNAUTHORIZED,
        "every session ended"
    );
    assert_eq!(
        app.try_login("alice", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.try_login("alice", NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
    // Used once: never again.
    problem(
        reset(&app, &token, "another fine password 7").await,
        StatusCode::BAD_REQUEST,
        "invalid_token",
    )
    .await;
    assert_eq!(
        app.try_login("alice", NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
    // And the owner hears about it.
    let mails = sink.wait_for("alice@example.com", 3).await;
    assert_eq!(mails[2].header("subject"), "Your password was changed");
}

#[tokio::test]
async fn forgot_answers_alike_for_every_login_and_mails_only_proven_addresses() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app_with_mail(Backend::Sqlite, &sink, |_| {}).await;
    verified_user(&app, &sink, "bob", "Bob@Example.com").await;
    super::signup_with_email(&app, "carol", "carol@example.com").await; // never verified
    sink.wait_for("carol@example.com", 1).await;

    for login in [
        "nobody",
        "nobody@example.com",
        "carol",
        "not an address@",
        "bob@example.com",
    ] {
        forgot(&app, login).await;
    }
    // By address, in another case: bob's link arrives; carol's unproven address gets nothing.
    let bob = sink.wait_for("Bob@Example.com", 2).await;
    assert_eq!(bob[1].header("subject"), "Reset your password");
    forgot(&app, "bob").await;
    sink.wait_for("Bob@Example.com", 3).await;
    let carol = sink.wait_for("carol@example.com", 1).await;
    assert_eq!(carol.len(), 1, "only the verification mail");
    let counts = app.state.stores.outbox.outbox_counts().await.unwrap();
    assert_eq!(
        counts.pending + counts.sent,
        4,
        "{counts:?}: 2 verifications, 2 resets"
    );
}

#[tokio::test]
async fn a_newer_link_a_password_change_or_time_voids_a_link() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app_with_mail(Backend::Sqlite, &sink, |_| {}).await;
    verified_user(&app, &sink, "dave", "dave@example.com").await;

    // One at a time: the worker delivers several mails at once, so arrival order is no
    // evidence of which was queued first.
    forgot(&app, "dave").await;
    sink.wait_for("dave@example.com", 2).await;
    forgot(&app, "dave").await;
    let mails = sink.wait_for("dave@example.com", 3).await;
    let (older, newer) = (reset_token(&mails[1]), reset_token(&mails[2]));
    problem(
        reset(&app, &older, NEW_PASSWORD).await,
        StatusCode::BAD_REQUEST,
        "invalid_token",
    )
    .await;

    // A weak password is refused and the link still works.
    problem(
        reset(&app, &newer, "password").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    // Changing the password the usual way voids it.
    let login = app.login("dave").await;
    let changed = app
        .write(
            reqwest::Method::POST,
            "/v1/password",
            &login,
            Some(json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD })),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    problem(
        reset(&app, &newer, "yet another good one 42").await,
        StatusCode::BAD_REQUEST,
        "invalid_token",
    )
    .await;

    // Expiry: 30 minutes by default.
    forgot(&app, "dave").await;
    let mails = sink.wait_for("dave@example.com", 4).await;
    let token = reset_token(&mails[3]);
    app.advance(time::Duration::minutes(31));
    problem(
        reset(&app, &token, "yet another good one 42").await,
        StatusCode::BAD_REQUEST,
        "invalid_token",
    )
    .await;
    let page = app.page(&format!("/reset?token={token}"), None).await;
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    assert!(
        page.text().await.unwrap().contains("href=\"/forgot\""),
        "a way forward"
    );
    assert_eq!(
        app.try_login("dave", NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn forged_truncated_and_malformed_tokens_change_nothing() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app_with_mail(Backend::Sqlite, &sink, |_| {}).await;
    verified_user(&app, &sink, "erin", "erin@example.com").await;
    forgot(&app, "erin").await;
    let token = reset_token(&sink.wait_for("erin@example.com", 2).await[1]);
    let forged = format!("hp_et_{}", "A".repeat(43));
    for bad in [
        &token[..token.len() - 1],
        forged.as_str(),
        "",
        "hp_st_nope",
        "%00",
    ] {
        problem(
            reset(&app, bad, NEW_PASSWORD).await,
            StatusCode::BAD_REQUEST,
            "invalid_token",
        )
        .await;
    }
    problem(
        app.post_json("/v1/password/reset", json!({ "token": 7 }))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        app.try_login("erin", PASSWORD).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        reset(&app, &token, NEW_PASSWORD).await.status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn one_address_gets_at_most_its_hourly_budget() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app_with_mail(Backend::Sqlite, &sink, |s| {
        s.email.mails_per_address_per_hour = 3;
    })
    .await;
    verified_user(&app, &sink, "frank", "frank@example.com").await;
    for _ in 0..5 {
        forgot(&app, "frank").await;
    }
    let counts = app.state.stores.outbox.outbox_counts().await.unwrap();
    assert_eq!(
        counts.pending + counts.sent,
        3,
        "{counts:?}: the verification and two resets"
    );
    sink.wait_for("frank@example.com", 3).await;
    app.advance(time::Duration::minutes(61));
    forgot(&app, "frank").await;
    sink.wait_for("frank@example.com", 4).await;
}
