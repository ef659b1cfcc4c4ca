//! A social login of an account with a second factor asks for it too: the provider is the first
//! factor, and no session exists until a code completes it.

use time::Duration;

use super::*;
use crate::{
    factors::{code, enroll},
    helpers::{Login, session_cookie},
    pages::{hidden_field, post_form},
};

#[tokio::test]
async fn a_provider_login_of_an_account_with_a_factor_needs_a_code() {
    if !oidc_available() {
        return;
    }
    let (app, provider) = setup(|_| {}).await;
    let started = start(&app, &provider, "?next=/demo/board", "alice").await;
    let done = finish(&app, Some(&started.cookie), &started.callback).await;
    let session = session_of(&done).unwrap();
    let me_now = me(&app, &session).await;
    assert_eq!(me_now["session"]["amr"], json!(["fed"]));
    // Just signed in through the provider: recent enough to add a factor without a password.
    let login = Login {
        cookie: session.clone(),
        token: String::new(),
        csrf: me_now["csrf_token"].as_str().unwrap().to_owned(),
        session_id: me_now["session"]["id"].as_str().unwrap().to_owned(),
        body: me_now.clone(),
    };
    let enrolled = enroll(&app, &login).await;
    app.advance(Duration::seconds(30));

    let again = start(&app, &provider, "?next=/demo/board", "alice").await;
    let page = finish(&app, Some(&again.cookie), &again.callback).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        session_cookie(&page).is_none(),
        "no session before the code"
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("Two-factor authentication"), "{html}");
    let field = |name: &str| hidden_field(&html, name);
    let token = field("mfa_token");
    assert_eq!(field("next"), "/demo/board");
    let (cookie, csrf) = crate::pages::form(&app, "/login").await;
    let completed = post_form(
        &app,
        "/login/mfa",
        &cookie,
        &[
            ("mfa_token", &token),
            ("code", &code(&app, &enrolled.secret)),
            ("next", "/demo/board"),
            ("csrf_token", &csrf),
        ],
    )
    .await;
    assert_eq!(completed.status(), StatusCode::SEE_OTHER);
    assert_eq!(completed.headers()[header::LOCATION], "/demo/board");
    let session = session_of(&completed).unwrap();
    assert_eq!(
        me(&app, &session).await["session"]["amr"],
        json!(["otp", "fed", "mfa"])
    );
}

/// Token mode (a single-page app): the provider login shows hallpass's code form, and the code
/// sends the browser back to the app with the refresh cookie, as a login without a factor does.
#[tokio::test]
async fn a_single_page_apps_provider_login_with_a_factor_returns_to_the_app_after_the_code() {
    if !oidc_available() {
        return;
    }
    let (app, provider) = setup(|_| {}).await;
    // The account first, and its factor, through a cookie login.
    let started = start(&app, &provider, "", "erin").await;
    let done = finish(&app, Some(&started.cookie), &started.callback).await;
    let session = session_of(&done).unwrap();
    let me_now = me(&app, &session).await;
    let login = Login {
        cookie: session.clone(),
        token: String::new(),
        csrf: me_now["csrf_token"].as_str().unwrap().to_owned(),
        session_id: me_now["session"]["id"].as_str().unwrap().to_owned(),
        body: me_now.clone(),
    };
    let enrolled = enroll(&app, &login).await;
    app.advance(Duration::seconds(30));

    let return_to = format!("{APP}/signed-in");
    let query = format!("?mode=token&return_to={}", urlencode(&return_to));
    let again = start(&app, &provider, &query, "erin").await;
    let page = finish(&app, Some(&again.cookie), &again.callback).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let field = |name: &str| hidden_field(&html, name);
    let token = field("mfa_token");
    assert_eq!(field("return_to"), return_to);
    let (cookie, csrf) = crate::pages::form(&app, "/login").await;
    let completed = post_form(
        &app,
        "/login/mfa",
        &cookie,
        &[
            ("mfa_token", &token),
            ("code", &code(&app, &enrolled.secret)),
            ("return_to", &return_to),
            ("csrf_token", &csrf),
        ],
    )
    .await;
    assert_eq!(completed.status(), StatusCode::SEE_OTHER);
    assert_eq!(completed.headers()[header::LOCATION], return_to.as_str());
    assert!(
        session_of(&completed).is_none(),
        "no page session in token mode"
    );
    let refresh = crate::helpers::cookie_header(&completed);
    let tokens: Value = app
        .client
        .post(app.url("/v1/token"))
        .header(header::COOKIE, &refresh)
        .header(header::ORIGIN, APP)
        .json(&json!({ "grant_type": "refresh_token", "refresh_token_delivery": "cookie" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(tokens["access_token"].is_string(), "{tokens}");
}
