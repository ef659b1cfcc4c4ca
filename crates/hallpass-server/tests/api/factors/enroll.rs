//! Enrolling an authenticator app, listing factors, recovery codes, removing a factor.

use hallpass_core::factor::totp::TotpSecret;
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};
use time::Duration;

use super::{code, enroll, first_step};
use crate::helpers::{PASSWORD, problem, spawn_app};

#[tokio::test]
async fn an_app_counts_only_once_a_code_from_it_confirms_it() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let alice = app.login("alice").await;

    let started = app
        .write(
            Method::POST,
            "/v1/factors/totp",
            &alice,
            Some(json!({ "name": "Phone" })),
        )
        .await;
    assert_eq!(started.status(), StatusCode::CREATED);
    let started: Value = started.json().await.unwrap();
    let uri = started["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/") && uri.contains(":alice?secret="),
        "{uri}"
    );
    assert!(started["qr_svg"].as_str().unwrap().starts_with("<svg"));
    let secret = TotpSecret::from_base32(started["secret"].as_str().unwrap()).unwrap();

    // Not yet a factor: the password alone still logs in, and the list is empty.
    assert_eq!(
        app.try_login("alice", PASSWORD).await.status(),
        StatusCode::OK
    );
    let listed: Value = super::listed(&app, &alice).await;
    assert_eq!(listed, json!({ "factors": [], "recovery_codes_left": 0 }));

    // A wrong code confirms nothing.
    let wrong = app
        .write(
            Method::POST,
            "/v1/factors/totp/confirm",
            &alice,
            Some(json!({ "code": "000000" })),
        )
        .await;
    problem(wrong, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let confirmed = app
        .write(
            Method::POST,
            "/v1/factors/totp/confirm",
            &alice,
            Some(json!({ "code": code(&app, &secret) })),
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let codes: Value = confirmed.json().await.unwrap();
    let codes = codes["recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    assert!(codes.iter().all(|c| c.as_str().unwrap().len() == 11));

    let listed: Value = super::listed(&app, &alice).await;
    assert_eq!(listed["recovery_codes_left"], 10);
    assert_eq!(listed["factors"][0]["kind"], "totp");
    assert_eq!(listed["factors"][0]["name"], "Phone");
    // Now the password is only the first step.
    first_step(&app, "alice").await;
    // Nothing left to confirm.
    let again = app
        .write(
            Method::POST,
            "/v1/factors/totp/confirm",
            &alice,
            Some(json!({ "code": code(&app, &secret) })),
        )
        .await;
    problem(again, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn changing_factors_needs_a_recent_authentication_or_the_password() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let alice = app.login("alice").await;
    let enrolled = enroll(&app, &alice).await;
    let listed: Value = super::listed(&app, &alice).await;
    let id = listed["factors"][0]["id"].as_str().unwrap().to_owned();

    // Eleven minutes after the login: the session is no longer recent enough.
    app.advance(Duration::minutes(11));
    for (method, path) in [
        (Method::DELETE, format!("/v1/factors/{id}")),
        (Method::POST, "/v1/factors/recovery-codes".to_owned()),
        (Method::POST, "/v1/factors/totp".to_owned()),
    ] {
        let response = app.write(method, &path, &alice, None).await;
        let challenge = response
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            challenge.contains("error=\"insufficient_user_authentication\"")
                && challenge.contains("max_age=\"600\""),
            "{challenge}"
        );
        problem(
            response,
            StatusCode::UNAUTHORIZED,
            "insufficient_user_authentication",
        )
        .await;
    }
    let wrong = app
        .write(
            Method::DELETE,
            &format!("/v1/factors/{id}"),
            &alice,
            Some(json!({ "current_password": "not it" })),
        )
        .await;
    problem(wrong, StatusCode::FORBIDDEN, "invalid_credentials").await;
    // Still a factor.
    first_step(&app, "alice").await;

    // With the password: new recovery codes void the old ones, then the factor goes.
    let regenerated = app
        .write(
            Method::POST,
            "/v1/factors/recovery-codes",
            &alice,
            Some(json!({ "current_password": PASSWORD })),
        )
        .await;
    assert_eq!(regenerated.status(), StatusCode::OK);
    let fresh: Value = regenerated.json().await.unwrap();
    assert_eq!(fresh["recovery_codes"].as_array().unwrap().len(), 10);
    let token = first_step(&app, "alice").await;
    let old = super::second_step(
        &app,
        json!({ "mfa_token": token, "recovery_code": enrolled.recovery_codes[0] }),
    )
    .await;
    problem(old, StatusCode::UNAUTHORIZED, "invalid_credentials").await;

    let removed = app
        .write(
            Method::DELETE,
            &format!("/v1/factors/{id}"),
            &alice,
            Some(json!({ "current_password": PASSWORD })),
        )
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.try_login("alice", PASSWORD).await.status(),
        StatusCode::OK,
        "no factor, no second step"
    );
    let listed: Value = super::listed(&app, &alice).await;
    assert_eq!(listed, json!({ "factors": [], "recovery_codes_left": 0 }));
    let audit = app
        .state
        .stores
        .audit
        .list_audit(&hallpass_store::AuditQuery {
            limit: 100,
            ..hallpass_store::AuditQuery::default()
        })
        .await
        .unwrap();
    let kinds: Vec<&str> = audit.iter().map(|r| r.event.kind.as_str()).collect();
    for kind in [
        "factor_added",
        "recovery_codes_regenerated",
        "factor_removed",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
}

#[tokio::test]
async fn another_users_factor_cannot_be_removed_and_bad_ids_are_not_found() {
    let app = spawn_app().await;
    app.signup("alice").await;
    app.signup("bob").await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    enroll(&app, &alice).await;
    let listed: Value = super::listed(&app, &alice).await;
    let id = listed["factors"][0]["id"].as_str().unwrap().to_owned();
    for path in [
        format!("/v1/factors/{id}"),
        "/v1/factors/not-a-uuid".to_owned(),
    ] {
        let response = app.write(Method::DELETE, &path, &bob, None).await;
        problem(response, StatusCode::NOT_FOUND, "not_found").await;
    }
    first_step(&app, "alice").await;
    // Without a session: 401.
    let anonymous = app.post_json("/v1/factors/totp", json!({})).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}
