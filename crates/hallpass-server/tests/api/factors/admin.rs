//! An administrator sees a user's factors and removes one (account recovery); every factor
//! change is mailed to the user's proven address.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::enroll;
use crate::{
    email::verified_user,
    helpers::{Backend, PASSWORD, SmtpSink, problem, spawn_app_with_mail},
};

#[tokio::test]
async fn an_administrator_removes_a_lost_factor_and_the_user_is_told() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app_with_mail(Backend::Sqlite, &sink, |_| {}).await;
    verified_user(&app, &sink, "rosa", "rosa@example.com").await;
    let rosa = app.login("rosa").await;
    enroll(&app, &rosa).await;
    let added = &sink.wait_for("rosa@example.com", 2).await[1];
    assert_eq!(
        added.header("subject"),
        "Two-factor authentication on your account changed"
    );
    assert!(
        added
            .text
            .contains("an authenticator app (\"Authenticator app\") was added")
    );

    let id = rosa.body["user"]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/admin/users/{id}/factors");
    // Not for the user themself, nor anyone but an administrator.
    assert_eq!(
        app.get_with(&path, &rosa.cookie).await.status(),
        StatusCode::FORBIDDEN
    );
    let root = app.admin("root").await;
    let listed: Value = app
        .get_with(&path, &root.cookie)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["recovery_codes_left"], 10);
    let factor = listed["factors"][0]["id"].as_str().unwrap().to_owned();
    assert!(
        listed["factors"][0].get("secret").is_none(),
        "no secret leaves"
    );

    let removed = app
        .write(Method::DELETE, &format!("{path}/{factor}"), &root, None)
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let again = app
        .write(Method::DELETE, &format!("{path}/{factor}"), &root, None)
        .await;
    problem(again, StatusCode::NOT_FOUND, "not_found").await;
    let told = &sink.wait_for("rosa@example.com", 3).await[2];
    assert!(
        told.text.contains("was removed by an administrator"),
        "{}",
        told.text
    );
    assert_eq!(
        app.try_login("rosa", PASSWORD).await.status(),
        StatusCode::OK,
        "the password alone signs in again"
    );
    // Audited with the administrator as the actor.
    let audit: Value = app
        .get_with("/v1/admin/audit?kind=factor_removed", &root.cookie)
        .await
        .json()
        .await
        .unwrap();
    let event = &audit["events"][0];
    assert_eq!(event["actor"], root.body["user"]["id"]);
    assert_eq!(event["subject"], id.as_str());
}
