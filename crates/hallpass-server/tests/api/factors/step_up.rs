//! Step-up: administrators' writes need an authentication in the last ten minutes; a session
//! re-authenticates with its password (or an authenticator code) through the API or the page.

use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};
use time::Duration;

use super::{code, enroll};
use crate::helpers::{PASSWORD, PUBLIC_URL, problem, spawn_app};

#[tokio::test]
async fn an_administrators_old_session_must_re_authenticate_before_a_write() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let id = alice["user"]["id"].as_str().unwrap().to_owned();
    let root = app.admin("root").await;
    let disable = json!({ "disabled": true });
    let path = format!("/v1/admin/users/{id}");

    app.advance(Duration::minutes(11));
    // Reads still work; writes do not.
    assert_eq!(
        app.get_with("/v1/admin/users", &root.cookie).await.status(),
        StatusCode::OK
    );
    let refused = app
        .write(Method::PATCH, &path, &root, Some(disable.clone()))
        .await;
    let challenge = refused.headers()[header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains("insufficient_user_authentication"),
        "{challenge}"
    );
    problem(
        refused,
        StatusCode::UNAUTHORIZED,
        "insufficient_user_authentication",
    )
    .await;
    for path in [
        format!("/v1/admin/users/{id}/logout"),
        format!("/v1/admin/users/{id}/factors/{id}"),
    ] {
        let method = if path.ends_with("logout") {
            Method::POST
        } else {
            Method::DELETE
        };
        let response = app.write(method, &path, &root, None).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
    }

    let wrong = app
        .write(
            Method::POST,
            "/v1/reauth",
            &root,
            Some(json!({ "password": "not it" })),
        )
        .await;
    problem(wrong, StatusCode::FORBIDDEN, "invalid_credentials").await;
    let confirmed = app
        .write(
            Method::POST,
            "/v1/reauth",
            &root,
            Some(json!({ "password": PASSWORD })),
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::NO_CONTENT);
    let me: Value = app
        .get_with("/v1/me", &root.cookie)
        .await
        .json()
        .await
        .unwrap();
    let auth_time = time::OffsetDateTime::parse(
        me["session"]["auth_time"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    // The store keeps whole microseconds.
    let now = crate::helpers::ClockReading::now_for_tests(&*app.clock);
    assert!(
        (now - auth_time).abs() < Duration::milliseconds(1),
        "{auth_time} vs {now}"
    );
    let done = app.write(Method::PATCH, &path, &root, Some(disable)).await;
    assert_eq!(done.status(), StatusCode::OK);

    // Ten more minutes and it is old again.
    app.advance(Duration::minutes(11));
    let again = app
        .write(
            Method::PATCH,
            &path,
            &root,
            Some(json!({ "disabled": false })),
        )
        .await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_console_sends_an_old_session_to_confirm_and_back() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let id = alice["user"]["id"].as_str().unwrap().to_owned();
    let root = app.admin("root").await;
    app.advance(Duration::minutes(11));
    let page = format!("/admin/users/{id}");
    let refused = app
        .client
        .post(app.url(&format!("/admin/users/{id}/disabled")))
        .header(header::COOKIE, &root.cookie)
        .header("sec-fetch-site", "same-origin")
        .header(header::REFERER, format!("{PUBLIC_URL}{page}"))
        .form(&[("disabled", "true"), ("csrf_token", root.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::SEE_OTHER);
    let to = refused.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(to, format!("/reauth?next=%2Fadmin%2Fusers%2F{id}"));
    let form = app.page(&to, Some(&root)).await;
    assert_eq!(form.status(), StatusCode::OK);
    assert!(form.text().await.unwrap().contains("Confirm it"));
    let wrong = app
        .post_form(
            "/reauth",
            &root,
            &[
                ("password", "nope"),
                ("next", &page),
                ("csrf_token", &root.csrf),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let back = app
        .post_form(
            "/reauth",
            &root,
            &[
                ("password", PASSWORD),
                ("next", &page),
                ("csrf_token", &root.csrf),
            ],
        )
        .await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert_eq!(back.headers()[header::LOCATION].to_str().unwrap(), page);
    let done = app
        .post_form(
            &format!("/admin/users/{id}/disabled"),
            &root,
            &[("disabled", "true"), ("csrf_token", &root.csrf)],
        )
        .await;
    assert_eq!(done.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_authenticator_code_re_authenticates_too() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let alice = app.login("alice").await;
    let enrolled = enroll(&app, &alice).await;
    app.advance(Duration::minutes(11));
    let stale = app
        .write(Method::POST, "/v1/factors/recovery-codes", &alice, None)
        .await;
    assert_eq!(stale.status(), StatusCode::UNAUTHORIZED);
    let confirmed = app
        .write(
            Method::POST,
            "/v1/reauth",
            &alice,
            Some(json!({ "code": code(&app, &enrolled.secret) })),
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::NO_CONTENT);
    let fresh = app
        .write(Method::POST, "/v1/factors/recovery-codes", &alice, None)
        .await;
    assert_eq!(fresh.status(), StatusCode::OK);
    // The code is spent: it does not re-authenticate twice.
    let replay = app
        .write(
            Method::POST,
            "/v1/reauth",
            &alice,
            Some(json!({ "code": code(&app, &enrolled.secret) })),
        )
        .await;
    problem(replay, StatusCode::FORBIDDEN, "invalid_credentials").await;
}
