//! Changing the address: the current password, confirmation at the new address, a notice to
//! the old one.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{verified_user, verify_from};
use crate::helpers::{Backend, PASSWORD, SmtpSink, problem, spawn_app_with_mail};

#[tokio::test]
async fn a_new_address_takes_effect_once_confirmed_and_the_old_one_hears() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app_with_mail(Backend::Sqlite, &sink, |_| {}).await;
    verified_user(&app, &sink, "lena", "lena@old.example").await;
    verified_user(&app, &sink, "mike", "mike@example.com").await;
    let login = app.login("lena").await;
    let change = |body| app.write(Method::POST, "/v1/email", &login, Some(body));

    problem(
        change(json!({ "email": "lena@new.example", "current_password": "not the password" }))
            .await,
        StatusCode::FORBIDDEN,
        "invalid_credentials",
    )
    .await;
    problem(
        change(json!({ "email": "MIKE@example.com", "current_password": PASSWORD })).await,
        StatusCode::CONFLICT,
        "email_taken",
    )
    .await;
    problem(
        change(json!({ "email": "no at sign", "current_password": PASSWORD })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let accepted =
        change(json!({ "email": "lena@new.example", "current_password": PASSWORD })).await;
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);

    // Nothing changes until the new address answers.
    let me: serde_json::Value = app
        .get_with("/v1/me", &login.cookie)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["email"], "lena@old.example");
    let confirm = &sink.wait_for("lena@new.example", 1).await[0];
    assert_eq!(confirm.header("subject"), "Confirm your new email address");
    verify_from(&app, confirm).await;
    let me: serde_json::Value = app
        .get_with("/v1/me", &login.cookie)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["email"], "lena@new.example");
    assert_eq!(me["user"]["email_verified"], true);
    let old = sink.wait_for("lena@old.example", 2).await;
    assert_eq!(old[1].header("subject"), "Your email address was changed");
    assert!(old[1].text.contains("lena@new.example"));
    // The old address no longer names the account.
    assert_eq!(
        app.try_login("lena@old.example", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.try_login("lena@new.example", PASSWORD).await.status(),
        StatusCode::OK
    );
}
