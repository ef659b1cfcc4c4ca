//! The HTML pages, driven as a browser without JavaScript would: GET the form, POST it back
//! with the cookie and the hidden token. (The real-browser suite lives in `e2e/`.)

use reqwest::{StatusCode, header};

use crate::helpers::{PASSWORD, TestApp, session_cookie, spawn_app};

/// The `csrf_token` hidden field of the first form on a page.
pub(crate) fn hidden_token(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("a csrf_token field") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// The value of the hidden field `name`, as a browser reads the attribute (minijinja escapes
/// `/` as `&#x2f;`).
pub(crate) fn hidden_field(html: &str, name: &str) -> String {
    html.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no hidden field {name}"))
        .replace("&#x2f;", "/")
}

fn presession_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("hallpass_csrf="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_owned()
}

/// GET a form page; returns its nonce cookie and token.
pub(crate) async fn form(app: &TestApp, path: &str) -> (String, String) {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = presession_cookie(&response);
    let token = hidden_token(&response.text().await.unwrap());
    (cookie, token)
}

/// POST a form as the page's own browser would (same-origin).
pub(crate) async fn post_form(
    app: &TestApp,
    path: &str,
    cookie: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header(header::COOKIE, cookie)
        .header("sec-fetch-site", "same-origin")
        .header("origin", "null")
        .form(fields)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn pages_send_a_strict_policy_and_no_inline_script() {
    let app = spawn_app().await;
    for path in ["/login", "/signup"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        let headers = response.headers().clone();
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        // Script only from our own files, never inline: injected markup cannot run.
        assert!(
            !csp.contains("unsafe-inline") && csp.contains("script-src 'self'"),
            "{csp}"
        );
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
        let set_cookie = headers[header::SET_COOKIE].to_str().unwrap();
        assert!(
            set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
            "{set_cookie}"
        );
        let html = response.text().await.unwrap();
        assert!(
            !html.contains("<script") && !html.contains(" style=") && !html.contains("onclick"),
            "{path}"
        );
        assert!(html.contains("<form") && html.contains("method=\"post\""));
    }
    assert!(
        app.client
            .get(app.url("/account"))
            .send()
            .await
            .unwrap()
            .headers()[header::LOCATION]
            == "/login"
    );
    let css = app
        .client
        .get(app.url("/static/hallpass.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        css.headers()[header::CONTENT_TYPE],
        "text/css; charset=utf-8"
    );
}

#[tokio::test]
async fn signup_login_account_and_logout_through_the_forms() {
    let app = spawn_app().await;
    let (nonce, token) = form(&app, "/signup").await;
    let fields = [
        ("username", "alice"),
        ("email", ""),
        ("password", PASSWORD),
        ("csrf_token", token.as_str()),
    ];
    let response = post_form(&app, "/signup", &nonce, &fields).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[header::LOCATION], "/account");
    let session = session_cookie(&response).expect("signed up and logged in");

    let account = app.get_with("/account", &session).await;
    assert_eq!(account.status(), StatusCode::OK);
    let html = account.text().await.unwrap();
    assert!(
        html.contains("alice") && html.contains("Firefox on Linux") && html.contains("127.0.0.1")
    );
    let csrf = hidden_token(&html);

    let (nonce, token) = form(&app, "/login").await;
    let fields = [
        ("username", "alice"),
        ("password", PASSWORD),
        ("csrf_token", token.as_str()),
    ];
    let response = post_form(&app, "/login", &nonce, &fields).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let second = session_cookie(&response).unwrap();

    // Log the second browser out from the first one's device list.
    let second_id = {
        let body: serde_json::Value = app.get_with("/v1/me", &second).await.json().await.unwrap();
        body["session"]["id"].as_str().unwrap().to_owned()
    };
    let response = post_form(
        &app,
        &format!("/account/sessions/{second_id}/revoke"),
        &session,
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("logged out"));
    assert_eq!(
        app.get_with("/v1/me", &second).await.status(),
        StatusCode::UNAUTHORIZED
    );

    let response = post_form(
        &app,
        "/logout",
        &session,
        &[("csrf_token", &csrf), ("scope", "local")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[header::LOCATION], "/login");
    assert_eq!(response.headers()["clear-site-data"], "\"cookies\"");
    assert_eq!(
        app.get_with("/v1/me", &session).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn login_form_shows_errors_without_saying_which_part_was_wrong() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let (nonce, token) = form(&app, "/login").await;
    let fields = [
        ("username", "alice"),
        ("password", "wrong wrong wrong"),
        ("csrf_token", token.as_str()),
    ];
    let response = post_form(&app, "/login", &nonce, &fields).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(session_cookie(&response).is_none());
    let html = response.text().await.unwrap();
    assert!(html.contains("the username or password is wrong"));
    assert!(html.contains("value=\"alice\""), "the username is kept");
}

/// Login CSRF: a foreign page must not log the victim into the attacker's account.
#[tokio::test]
async fn login_and_signup_forms_need_their_presession_token() {
    let app = spawn_app().await;
    app.signup("attacker").await;
    let (nonce, token) = form(&app, "/login").await;
    let (other_nonce, _) = form(&app, "/login").await;
    let cases: [(&str, &[(&str, &str)]); 3] = [
        (&nonce, &[("username", "attacker"), ("password", PASSWORD)]),
        (
            &other_nonce,
            &[
                ("username", "attacker"),
                ("password", PASSWORD),
                ("csrf_token", &token),
            ],
        ),
        (
            "",
            &[
                ("username", "attacker"),
                ("password", PASSWORD),
                ("csrf_token", &token),
            ],
        ),
    ];
    for (cookie, fields) in cases {
        let response = post_form(&app, "/login", cookie, fields).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(session_cookie(&response).is_none());
    }
    // Right token, but posted from another site.
    let response = app
        .client
        .post(app.url("/login"))
        .header(header::COOKIE, &nonce)
        .header("sec-fetch-site", "cross-site")
        .header("origin", "https://evil.example")
        .form(&[
            ("username", "attacker"),
            ("password", PASSWORD),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(session_cookie(&response).is_none());
    let (nonce, _) = form(&app, "/signup").await;
    let response = post_form(
        &app,
        "/signup",
        &nonce,
        &[
            ("username", "victim2"),
            ("password", PASSWORD),
            ("csrf_token", "forged"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn account_forms_need_the_session_token() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let alice = app.login("alice").await;
    let other = app.login("alice").await;
    for token in ["", "forged", other.csrf.as_str()] {
        let response = post_form(
            &app,
            "/logout",
            &alice.cookie,
            &[("csrf_token", token), ("scope", "global")],
        )
        .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(app.me(&alice).await, StatusCode::OK);
    assert_eq!(app.me(&other).await, StatusCode::OK);
}

#[tokio::test]
async fn the_password_form_reports_problems_and_changes_the_password() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let alice = app.login("alice").await;
    let other = app.login("alice").await;
    let fields = [
        ("current_password", "nope nope nope"),
        ("new_password", "amber lantern quietly orbits"),
        ("csrf_token", alice.csrf.as_str()),
    ];
    let response = post_form(&app, "/account/password", &alice.cookie, &fields).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("is not your current password")
    );
    let fields = [
        ("current_password", PASSWORD),
        ("new_password", "amber lantern quietly orbits"),
        ("csrf_token", alice.csrf.as_str()),
    ];
    let response = post_form(&app, "/account/password", &alice.cookie, &fields).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("Password changed"));
    assert_eq!(app.me(&other).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn user_text_is_escaped() {
    let app = spawn_app().await;
    let (nonce, token) = form(&app, "/signup").await;
    let fields = [
        ("username", "<script>alert(1)</script>"),
        ("password", PASSWORD),
        ("csrf_token", token.as_str()),
    ];
    let response = post_form(&app, "/signup", &nonce, &fields).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.contains("&lt;script&gt;"));
}
