//! The two-step login on the other entry points: the token endpoint's password grant, the
//! login page, and the emailed sign-in code. (Social login: `tests/api/social/factors.rs`.)

use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use time::Duration;

use super::{code, enroll, second_step};
use crate::{
    helpers::{
        Backend, ClockReading, PASSWORD, SmtpSink, claims_of, problem, session_cookie, spawn_app,
        spawn_app_with_mail,
    },
    pages::{form, hidden_field, hidden_token, post_form},
};

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
    let claims = claims_of(access);
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
    let claims = claims_of(refreshed["access_token"].as_str().unwrap());
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
    let token = hidden_field(&html, "mfa_token");
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
