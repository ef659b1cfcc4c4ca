//! Signing in with an emailed code or link (`email.passwordless_login`, off by default).

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{signup_with_email, verified_user};

const EMAIL_CODE_GRANT: &str = "urn:hallpass:grant-type:email-code";
use crate::helpers::{Backend, PUBLIC_URL, SmtpSink, login_from, problem, spawn_app_with_mail};

#[tokio::test]
async fn off_by_default() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app_with_mail(Backend::Sqlite, &sink, |_| {}).await;
    problem(
        app.post_json("/v1/login/email", json!({ "email": "a@example.com" }))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(
        app.page("/login/email", None).await.status(),
        StatusCode::NOT_FOUND
    );
    let r = app
        .post_json(
            "/v1/token",
            json!({ "grant_type": EMAIL_CODE_GRANT, "email": "a@example.com", "code": "123456" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );
}

/// The token endpoint's extension grant: what a single-page app or a native app uses.
#[tokio::test]
async fn the_token_endpoint_takes_a_mailed_code_once_and_issues_tokens() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app_with_mail(Backend::Sqlite, &sink, |s| {
        s.email.passwordless_login = true
    })
    .await;
    verified_user(&app, &sink, "rosa", "rosa@example.com").await;
    let config: Value = app
        .client
        .get(app.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        config["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!(EMAIL_CODE_GRANT))
    );

    app.post_json("/v1/login/email", json!({ "email": "rosa@example.com" }))
        .await;
    let code = sink.wait_for("rosa@example.com", 2).await[1].code();
    let grant =
        json!({ "grant_type": EMAIL_CODE_GRANT, "email": "Rosa@Example.com", "code": code });
    let r = app.post_json("/v1/token", grant.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let tokens: Value = r.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let me: Value = app
        .client
        .get(app.url("/v1/me"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["username"], "rosa");
    let refreshed = app
        .post_json(
            "/v1/token",
            json!({ "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"] }),
        )
        .await;
    assert_eq!(refreshed.status(), StatusCode::OK);

    // Spent: the same code again, a made-up one, or half a request, and nothing is issued.
    for (body, error) in [
        (grant, "invalid_grant"),
        (
            json!({ "grant_type": EMAIL_CODE_GRANT, "email": "rosa@example.com", "code": "000000" }),
            "invalid_grant",
        ),
        (
            json!({ "grant_type": EMAIL_CODE_GRANT, "email": "rosa@example.com" }),
            "invalid_request",
        ),
    ] {
        let r = app.post_json("/v1/token", body).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(r.json::<Value>().await.unwrap()["error"], error);
    }
}

#[tokio::test]
async fn a_mailed_code_or_link_signs_in_once_and_only_at_a_proven_address() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app_with_mail(Backend::Sqlite, &sink, |s| {
        s.email.passwordless_login = true
    })
    .await;
    verified_user(&app, &sink, "rosa", "rosa@example.com").await;
    signup_with_email(&app, "sam", "sam@example.com").await; // unproven
    sink.wait_for("sam@example.com", 1).await;

    for email in ["rosa@example.com", "sam@example.com", "nobody@example.com"] {
        let r = app
            .post_json("/v1/login/email", json!({ "email": email }))
            .await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
    }
    let mail = &sink.wait_for("rosa@example.com", 2).await[1];
    assert_eq!(mail.header("subject"), "Your sign-in code");
    let code = mail.code();
    let login = login_from(
        app.post_json(
            "/v1/login/email/complete",
            json!({ "email": "rosa@example.com", "code": code }),
        )
        .await,
    )
    .await;
    assert_eq!(login.body["user"]["username"], "rosa");
    assert_eq!(app.me(&login).await, StatusCode::OK);
    assert_eq!(login.body["session"]["amr"], json!(["email"]));
    // Once.
    problem(
        app.post_json(
            "/v1/login/email/complete",
            json!({ "email": "rosa@example.com", "code": code }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_token",
    )
    .await;
    let link_token = mail.token(&format!("{PUBLIC_URL}/login/email?token="));
    problem(
        app.post_json("/v1/login/email/complete", json!({ "token": link_token }))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_token",
    )
    .await;
    // The link, from a fresh request.
    app.post_json("/v1/login/email", json!({ "email": "rosa@example.com" }))
        .await;
    let mail = &sink.wait_for("rosa@example.com", 3).await[2];
    let r = app
        .post_json(
            "/v1/login/email/complete",
            json!({ "token": mail.token(&format!("{PUBLIC_URL}/login/email?token=")) }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // The unproven address got no code.
    assert_eq!(sink.wait_for("sam@example.com", 1).await.len(), 1);
}
