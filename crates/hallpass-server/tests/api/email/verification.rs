//! Proving an address: the link or code mailed on signup, `email_verified` everywhere the user
//! shows, logging in by address, and `require_verified_email`.

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{signup_with_email, verify_from};
use crate::helpers::{
    Backend, PASSWORD, PUBLIC_URL, SmtpSink, problem, spawn_app_with_mail, tokens_from,
};

#[tokio::test]
async fn signup_mails_a_link_that_proves_the_address_everywhere() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app_with_mail(Backend::Sqlite, &sink, |_| {}).await;
    let user = signup_with_email(&app, "gina", "gina@example.com").await;
    assert_eq!(user["email_verified"], false);
    let mail = &sink.wait_for("gina@example.com", 1).await[0];
    assert_eq!(mail.header("subject"), "Confirm your email address");
    let link = mail.link(&format!("{PUBLIC_URL}/verify?token="));
    // The HTML part's link, as a browser reads the attribute (entities decoded).
    assert!(
        mail.html.replace("&#x2f;", "/").contains(&link),
        "{}",
        mail.html
    );

    // Opening the link (as a mail scanner would) spends nothing.
    let path = link.trim_start_matches(PUBLIC_URL);
    for _ in 0..2 {
        let page = app.page(path, None).await;
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.text().await.unwrap().contains("name=\"token\""));
    }
    verify_from(&app, mail).await;
    problem(
        app.post_json(
            "/v1/email/verify",
            json!({ "token": mail.token(&format!("{PUBLIC_URL}/verify?token=")) }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_token",
    )
    .await;

    // By address, in any case, and the claims say so.
    let login = app.try_login("GINA@example.com", PASSWORD).await;
    assert_eq!(login.status(), StatusCode::OK);
    let body: Value = login.json().await.unwrap();
    assert_eq!(body["user"]["email_verified"], true);
    let tokens = tokens_from(
        app.post_json(
            "/v1/token",
            json!({ "grant_type": "password", "username": "gina@example.com", "password": PASSWORD }),
        )
        .await,
    )
    .await;
    let payload = tokens.access.split('.').nth(1).unwrap().to_owned();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["email_verified"], true);
}

#[tokio::test]
async fn a_typed_code_proves_the_address_and_wrong_codes_void_it() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app_with_mail(Backend::Sqlite, &sink, |_| {}).await;
    signup_with_email(&app, "hank", "hank@example.com").await;
    let code = sink.wait_for("hank@example.com", 1).await[0].code();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    problem(
        app.post_json(
            "/v1/email/verify",
            json!({ "login": "hank", "code": wrong }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_token",
    )
    .await;
    let ok = app
        .post_json(
            "/v1/email/verify",
            json!({ "login": "hank@example.com", "code": code }),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.login("hank").await.body["user"]["email_verified"], true);

    // A second account: five wrong codes void the right one.
    signup_with_email(&app, "ivy", "ivy@example.com").await;
    let code = sink.wait_for("ivy@example.com", 1).await[0].code();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let r = app
            .post_json("/v1/email/verify", json!({ "login": "ivy", "code": wrong }))
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
    problem(
        app.post_json("/v1/email/verify", json!({ "login": "ivy", "code": code }))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_token",
    )
    .await;
    problem(
        app.post_json("/v1/email/verify", json!({ "token": "x", "code": code }))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
}

#[tokio::test]
async fn require_verified_email_refuses_login_until_the_address_is_proven() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app_with_mail(Backend::Sqlite, &sink, |s| {
        s.email.require_verified_email = true;
    })
    .await;
    signup_with_email(&app, "jack", "jack@example.com").await;
    // The right password learns the address is unproven; a wrong one learns nothing.
    problem(
        app.try_login("jack", PASSWORD).await,
        StatusCode::FORBIDDEN,
        "email_unverified",
    )
    .await;
    problem(
        app.try_login("jack", "wrong password here").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    // Resend answers alike for anyone, and the new link replaces the old one.
    for login in ["jack", "nobody"] {
        let r = app
            .post_json("/v1/email/verify/resend", json!({ "login": login }))
            .await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
    }
    let mails = sink.wait_for("jack@example.com", 2).await;
    problem(
        app.post_json(
            "/v1/email/verify",
            json!({ "token": mails[0].token(&format!("{PUBLIC_URL}/verify?token=")) }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_token",
    )
    .await;
    verify_from(&app, &mails[1]).await;
    assert_eq!(
        app.try_login("jack", PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_address_belongs_to_one_account_in_any_case() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app_with_mail(Backend::Sqlite, &sink, |_| {}).await;
    signup_with_email(&app, "kim", "kim@example.com").await;
    problem(
        app.post_json(
            "/v1/signup",
            json!({ "username": "kim2", "password": PASSWORD, "email": "KIM@Example.COM" }),
        )
        .await,
        StatusCode::CONFLICT,
        "email_taken",
    )
    .await;
    assert_eq!(
        app.try_login("kim2", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED,
        "nothing was created"
    );
}
