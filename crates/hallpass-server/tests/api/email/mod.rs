//! Mail over real SMTP (aiosmtpd, `helpers/smtp.rs`): recovery, verification, changing the
//! address, and the outbox's delivery through outages, refusals, a killed node and two nodes.

mod change;
mod delivery;
mod passwordless;
mod recovery;
mod verification;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, PUBLIC_URL, ReceivedMail, SmtpSink, TestApp};

/// Signs `username` up with `email`; returns the user object.
pub(crate) async fn signup_with_email(app: &TestApp, username: &str, email: &str) -> Value {
    let response = app
        .post_json(
            "/v1/signup",
            json!({ "username": username, "password": PASSWORD, "email": email }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED, "signup {username}");
    response.json::<Value>().await.unwrap()["user"].clone()
}

/// The verification mail's token, followed through the API.
pub(crate) async fn verify_from(app: &TestApp, mail: &ReceivedMail) {
    let token = mail.token(&format!("{PUBLIC_URL}/verify?token="));
    let response = app
        .post_json("/v1/email/verify", json!({ "token": token }))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

/// A user whose address is verified (signup, then the mailed link).
pub(crate) async fn verified_user(app: &TestApp, sink: &SmtpSink, username: &str, email: &str) {
    signup_with_email(app, username, email).await;
    let mails = sink.wait_for(email, 1).await;
    verify_from(app, &mails[0]).await;
}
