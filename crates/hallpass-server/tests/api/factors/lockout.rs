//! Wrong second steps: they void the challenge and count toward the lockout, but never lock
//! the owner's own browser out.

use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use time::Duration;

use super::{code, enroll, first_step, second_step};
use crate::helpers::{Backend, PASSWORD, problem, spawn_app_with};

#[tokio::test]
async fn wrong_codes_void_the_challenge_and_count_toward_the_lockout() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.rate_limit.account_failures_before_lockout = 8;
    })
    .await;
    app.signup("alice").await;
    let alice = app.login("alice").await;
    let enrolled = enroll(&app, &alice).await;
    app.advance(Duration::seconds(30));

    let token = first_step(&app, "alice").await;
    for _ in 0..5 {
        let wrong = second_step(&app, json!({ "mfa_token": token, "code": "000000" })).await;
        problem(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    // Five wrong codes: the challenge is void, even for the right code.
    let right = second_step(
        &app,
        json!({ "mfa_token": token, "code": code(&app, &enrolled.secret) }),
    )
    .await;
    problem(right, StatusCode::BAD_REQUEST, "invalid_token").await;
    // Three more wrong codes on a new challenge reach the account's lockout (8).
    let token = first_step(&app, "alice").await;
    for _ in 0..3 {
        second_step(&app, json!({ "mfa_token": token, "code": "000000" })).await;
    }
    let locked = second_step(
        &app,
        json!({ "mfa_token": token, "code": code(&app, &enrolled.secret) }),
    )
    .await;
    problem(locked, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

#[tokio::test]
async fn someone_with_the_password_cannot_lock_the_owners_browser_out_of_the_second_step() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.rate_limit.account_failures_before_lockout = 5;
    })
    .await;
    app.signup("alice").await;
    let first = app.try_login("alice", PASSWORD).await;
    let device = first
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("hallpass_device="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_owned();
    let alice = crate::helpers::login_from(first).await;
    let enrolled = enroll(&app, &alice).await;
    app.advance(Duration::seconds(30));

    // Elsewhere, with the password: five wrong codes lock the account there.
    let token = first_step(&app, "alice").await;
    for _ in 0..5 {
        second_step(&app, json!({ "mfa_token": token, "code": "000000" })).await;
    }
    let locked = app.try_login("alice", PASSWORD).await;
    problem(locked, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;

    // The owner's browser is judged by its own count, in both steps.
    let with_device = |path: &str, body: Value| {
        app.client
            .post(app.url(path))
            .header(header::COOKIE, &device)
            .json(&body)
            .send()
    };
    let owner = with_device(
        "/v1/login",
        json!({ "username": "alice", "password": PASSWORD }),
    )
    .await
    .unwrap();
    assert_eq!(owner.status(), StatusCode::UNAUTHORIZED);
    let token: Value = owner.json().await.unwrap();
    let done = with_device(
        "/v1/login/mfa",
        json!({ "mfa_token": token["mfa_token"], "code": code(&app, &enrolled.secret) }),
    )
    .await
    .unwrap();
    assert_eq!(done.status(), StatusCode::OK);
}
