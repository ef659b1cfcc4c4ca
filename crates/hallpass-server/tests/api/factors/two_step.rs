//! The two-step login through `POST /v1/login` and `POST /v1/login/mfa`: nothing before the
//! code, codes and challenges used once, malformed second steps, and two nodes. The other entry
//! points are in `entry_points.rs`, wrong codes and the lockout in `lockout.rs`.

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::Duration;

use super::{code, enroll, first_step, second_step};
use crate::helpers::{
    Backend, ClockReading, PASSWORD, postgres_available, problem, spawn_app, spawn_app_with,
};

async fn sessions_of(app: &crate::helpers::TestApp, username: &str) -> usize {
    let user = app
        .state
        .stores
        .users
        .user_by_username(&hallpass_core::user::Username::parse(username).unwrap())
        .await
        .unwrap()
        .unwrap();
    app.state
        .stores
        .sessions
        .sessions_of_user(user.id, app.clock.now_for_tests())
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_password_alone_opens_nothing_and_a_code_completes_it_once() {
    let mut backends = vec![Backend::Sqlite];
    if postgres_available() {
        backends.push(Backend::Postgres);
    }
    for backend in backends {
        let app = spawn_app_with(backend, |_| {}).await;
        app.signup("alice").await;
        let alice = app.login("alice").await;
        let enrolled = enroll(&app, &alice).await;
        let before = sessions_of(&app, "alice").await;

        let token = first_step(&app, "alice").await;
        assert_eq!(
            sessions_of(&app, "alice").await,
            before,
            "no session row yet"
        );
        // The code that confirmed the app was spent then: a replay within its step is refused.
        let replay = second_step(
            &app,
            json!({ "mfa_token": token, "code": code(&app, &enrolled.secret) }),
        )
        .await;
        problem(replay, StatusCode::UNAUTHORIZED, "invalid_credentials").await;

        app.advance(Duration::seconds(30));
        let done = second_step(
            &app,
            json!({ "mfa_token": token, "code": code(&app, &enrolled.secret) }),
        )
        .await;
        assert_eq!(done.status(), StatusCode::OK);
        let login = crate::helpers::login_from(done).await;
        let me: Value = app
            .get_with("/v1/me", &login.cookie)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(me["user"]["username"], "alice");
        assert_eq!(me["session"]["amr"], json!(["pwd", "otp", "mfa"]));
        assert_eq!(sessions_of(&app, "alice").await, before + 1);

        // The challenge is spent; so is that step's code.
        let spent = second_step(
            &app,
            json!({ "mfa_token": token, "code": code(&app, &enrolled.secret) }),
        )
        .await;
        problem(spent, StatusCode::BAD_REQUEST, "invalid_token").await;
        let token = first_step(&app, "alice").await;
        let replay = second_step(
            &app,
            json!({ "mfa_token": token, "code": code(&app, &enrolled.secret) }),
        )
        .await;
        problem(replay, StatusCode::UNAUTHORIZED, "invalid_credentials").await;

        // A recovery code works once, typed any which way.
        let typed = enrolled.recovery_codes[3].to_uppercase().replace('-', " ");
        let recovered =
            second_step(&app, json!({ "mfa_token": token, "recovery_code": typed })).await;
        assert_eq!(recovered.status(), StatusCode::OK);
        let token = first_step(&app, "alice").await;
        let again = second_step(
            &app,
            json!({ "mfa_token": token, "recovery_code": enrolled.recovery_codes[3] }),
        )
        .await;
        problem(again, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
        let listed: Value = super::listed(&app, &login).await;
        assert_eq!(listed["recovery_codes_left"], 9);
    }
}

#[tokio::test]
async fn malformed_second_steps_change_nothing() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let alice = app.login("alice").await;
    enroll(&app, &alice).await;
    let token = first_step(&app, "alice").await;
    for (body, status, code) in [
        (
            json!({ "mfa_token": token }),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            json!({ "mfa_token": token, "code": "1", "recovery_code": "2" }),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            json!({ "mfa_token": "hp_mfa_short", "code": "123456" }),
            StatusCode::BAD_REQUEST,
            "invalid_token",
        ),
        (
            json!({ "mfa_token": &token[..token.len() - 1], "code": "123456" }),
            StatusCode::BAD_REQUEST,
            "invalid_token",
        ),
        (
            json!({ "mfa_token": token, "recovery_code": "not a code at all" }),
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        ),
    ] {
        problem(second_step(&app, body).await, status, code).await;
    }
    // The challenge expires after five minutes.
    app.advance(Duration::minutes(6));
    let late = second_step(&app, json!({ "mfa_token": token, "code": "123456" })).await;
    problem(late, StatusCode::BAD_REQUEST, "invalid_token").await;
}

/// Two nodes on one PostgreSQL behind a round-robin balancer: the steps of one login on
/// different nodes, a code accepted once across both, and a re-authentication on one node
/// seen by the other.
#[tokio::test]
async fn two_nodes_share_challenges_spent_codes_and_re_authentication() {
    if !postgres_available() {
        return;
    }
    let a = spawn_app_with(Backend::Postgres, |s| {
        s.bus_channel = crate::helpers::bus_channel();
    })
    .await;
    let b = a.another_node().await;
    a.signup("alice").await;
    let alice = a.login("alice").await;
    let enrolled = enroll(&a, &alice).await;
    a.advance(Duration::seconds(30));

    // First step on A, second on B.
    let token = first_step(&a, "alice").await;
    let code_now = code(&a, &enrolled.secret);
    let done = second_step(&b, json!({ "mfa_token": token, "code": code_now })).await;
    assert_eq!(done.status(), StatusCode::OK);
    // The same code through the other node, on a new challenge: spent.
    let token = first_step(&b, "alice").await;
    let replay = second_step(&a, json!({ "mfa_token": token, "code": code_now })).await;
    problem(replay, StatusCode::UNAUTHORIZED, "invalid_credentials").await;

    // Re-authenticated on B, recent on A (which had the session cached).
    let login = crate::helpers::login_from(done).await;
    assert_eq!(a.me(&login).await, StatusCode::OK);
    a.advance(Duration::minutes(11));
    let stale = a
        .write(
            reqwest::Method::POST,
            "/v1/factors/recovery-codes",
            &login,
            None,
        )
        .await;
    assert_eq!(stale.status(), StatusCode::UNAUTHORIZED);
    let renewed = b
        .write(
            reqwest::Method::POST,
            "/v1/reauth",
            &login,
            Some(json!({ "password": PASSWORD })),
        )
        .await;
    assert_eq!(renewed.status(), StatusCode::NO_CONTENT);
    crate::helpers::eventually("the other node sees the re-authentication", || async {
        a.write(
            reqwest::Method::POST,
            "/v1/factors/recovery-codes",
            &login,
            None,
        )
        .await
        .status()
            == StatusCode::OK
    })
    .await;
}
