//! Second factors (docs/factors.md): enrolling an authenticator app, the two-step login on every
//! entry point, recovery codes, and removing a factor.

mod admin;
mod enroll;
mod entry_points;
mod lockout;
mod policy;
mod step_up;
mod two_step;

use hallpass_core::factor::totp::TotpSecret;
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{ClockReading, Login, TestApp};

/// An enrolled, confirmed authenticator app: its secret and the recovery codes shown once.
pub(crate) struct Enrolled {
    pub secret: TotpSecret,
    pub recovery_codes: Vec<String>,
}

/// Enrolls an authenticator app for the signed-in `login` and confirms it with its current code.
pub(crate) async fn enroll(app: &TestApp, login: &Login) -> Enrolled {
    let started = app
        .write(Method::POST, "/v1/factors/totp", login, None)
        .await;
    assert_eq!(started.status(), StatusCode::CREATED);
    let started: Value = started.json().await.unwrap();
    let secret = TotpSecret::from_base32(started["secret"].as_str().unwrap()).unwrap();
    let confirmed = app
        .write(
            Method::POST,
            "/v1/factors/totp/confirm",
            login,
            Some(json!({ "code": code(app, &secret) })),
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let body: Value = confirmed.json().await.unwrap();
    let recovery_codes = body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    Enrolled {
        secret,
        recovery_codes,
    }
}

/// `GET /v1/factors` for the signed-in `login`.
pub(crate) async fn listed(app: &TestApp, login: &Login) -> Value {
    app.get_with("/v1/factors", &login.cookie)
        .await
        .json()
        .await
        .unwrap()
}

/// The app's code at the test clock's now.
pub(crate) fn code(app: &TestApp, secret: &TotpSecret) -> String {
    secret.code_at(app.clock.now_for_tests()).unwrap()
}

/// A correct password for an account with a factor: 401 `mfa_required`, its token, no cookie.
pub(crate) async fn first_step(app: &TestApp, username: &str) -> String {
    let response = app.try_login(username, crate::helpers::PASSWORD).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        response.headers().get(header::SET_COOKIE).is_none(),
        "no cookie before the second step"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "mfa_required");
    assert_eq!(body["methods"], json!(["totp", "recovery_code"]));
    body["mfa_token"].as_str().unwrap().to_owned()
}

/// The second step through `POST /v1/login/mfa`.
pub(crate) async fn second_step(app: &TestApp, body: Value) -> reqwest::Response {
    app.post_json("/v1/login/mfa", body).await
}
