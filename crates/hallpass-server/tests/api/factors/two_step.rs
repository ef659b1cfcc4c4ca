//! The two-step login of an account with a factor, on each entry point: `POST /v1/login`, the
//! token endpoint's password grant, the login page, and the emailed sign-in code.

use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use time::Duration;

use super::{code, enroll, first_step, second_step};
use crate::{
    helpers::{
        Backend, ClockReading, PASSWORD, SmtpSink, postgres_available, problem, session_cookie,
        spawn_app, spawn_app_with, spawn_app_with_mail,
    },
    pages::{form, hidden_token, post_form},
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
        let listed: Value = app
            .get_with("/v1/factors", &login.cookie)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(listed["recovery_codes_left"], 9);
    }
}

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

#[tokio::test]
async fn the_password_grant_asks_for_the_mfa_grant_and_tokens_carry_amr() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let alice = app.login("alice").await;
    let enrolled = enroll(&app, &alice).await;
    app.advance(Duration::seconds(30));

    let first = app
        .post_json(
            "/v1/token",
            json!({ "grant_type": "password", "username": "alice", "password": PASSWORD }),
        )
        .await;
    assert_eq!(first.status(), StatusCode::UNAUTHORIZED);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["error"], "mfa_required");
    let token = first["mfa_token"].as_str().unwrap();

    // A token-flow challenge does not complete into a cookie session.
    let crossed = second_step(
        &app,
        json!({ "mfa_token": token, "code": code(&app, &enrolled.secret) }),
    )
    .await;
    problem(crossed, StatusCode::BAD_REQUEST, "invalid_token").await;

    let granted = app
        .post_json(
            "/v1/token",
            json!({
                "grant_type": "urn:hallpass:grant-type:mfa",
                "mfa_token": token,
                "code": code(&app, &enrolled.secret),
            }),
        )
        .await;
    assert_eq!(granted.status(), StatusCode::OK);
    let tokens: Value = granted.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let claims: Value = {
        use base64::Engine;
        let payload = access.split('.').nth(1).unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(
        claims["auth_time"].as_i64().unwrap(),
        app.clock.now_for_tests().unix_timestamp()
    );
    let me = app
        .client
        .get(app.url("/v1/me"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    // A refresh keeps how the session was authenticated.
    let refreshed: Value = app
        .post_json(
            "/v1/token",
            json!({ "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"] }),
        )
        .await
        .json()
        .await
        .unwrap();
    let payload = refreshed["access_token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap()
        .to_owned();
    let claims: Value = {
        use base64::Engine;
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    // The grant again with the spent challenge.
    let spent = app
        .post_json(
            "/v1/token",
            json!({ "grant_type": "urn:hallpass:grant-type:mfa", "mfa_token": token, "code": "123456" }),
        )
        .await;
    assert_eq!(spent.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        spent.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
}

#[tokio::test]
async fn the_login_page_shows_the_code_form_and_sets_the_cookie_only_after_it() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let alice = app.login("alice").await;
    let enrolled = enroll(&app, &alice).await;
    app.advance(Duration::seconds(30));

    let (cookie, csrf) = form(&app, "/login").await;
    let page = post_form(
        &app,
        "/login",
        &cookie,
        &[
            ("username", "alice"),
            ("password", PASSWORD),
            ("csrf_token", &csrf),
        ],
    )
    .await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(session_cookie(&page).is_none(), "no session cookie yet");
    let html = page.text().await.unwrap();
    assert!(html.contains("Two-factor authentication"), "{html}");
    let field = |html: &str, name: &str| {
        html.split(&format!("name=\"{name}\" value=\""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .to_owned()
    };
    let token = field(&html, "mfa_token");
    let csrf = hidden_token(&html);
    let wrong = post_form(
        &app,
        "/login/mfa",
        &cookie,
        &[
            ("mfa_token", &token),
            ("code", "000000"),
            ("csrf_token", &csrf),
        ],
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let html = wrong.text().await.unwrap();
    assert!(html.contains("That code is not right"), "{html}");
    let csrf = hidden_token(&html);
    let done = post_form(
        &app,
        "/login/mfa",
        &cookie,
        &[
            ("mfa_token", &token),
            ("code", &code(&app, &enrolled.secret)),
            ("csrf_token", &csrf),
        ],
    )
    .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(done.headers()[header::LOCATION], "/account");
    let session = session_cookie(&done).unwrap();
    assert_eq!(
        app.get_with("/v1/me", &session).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_emailed_sign_in_code_is_a_first_factor_too() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app_with_mail(Backend::Sqlite, &sink, |s| {
        s.email.passwordless_login = true;
    })
    .await;
    crate::email::verified_user(&app, &sink, "rosa", "rosa@example.com").await;
    let rosa = app.login("rosa").await;
    enroll(&app, &rosa).await;
    app.post_json("/v1/login/email", json!({ "email": "rosa@example.com" }))
        .await;
    // The verification mail, the "factors changed" notice, and the code.
    let mails = sink.wait_for("rosa@example.com", 3).await;
    let code_mail = mails
        .iter()
        .find(|m| m.header("subject") == "Your sign-in code")
        .unwrap();
    let response = app
        .post_json(
            "/v1/login/email/complete",
            json!({ "email": "rosa@example.com", "code": code_mail.code() }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(session_cookie(&response).is_none());
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "mfa_required");
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
