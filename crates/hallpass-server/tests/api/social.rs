//! Social login against a real OpenID provider (npm `oidc-provider`, started per test): the
//! whole flow over HTTP, and every way a callback can be wrong.

use hallpass_server::config::ProviderSettings;
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, PASSWORD, PUBLIC_URL, TestApp, spawn_app_with},
    oidc_provider::{TestProvider, oidc_available},
};

/// A hallpass with the test provider configured as `corp`, and the provider.
/// A single-page app's origin, in `allowed_origins`.
const APP: &str = "http://app.hallpass.test";

async fn setup(tweak: impl FnOnce(&mut ProviderSettings)) -> (TestApp, TestProvider) {
    setup_with(false, tweak).await
}

async fn setup_with(
    advertise_hs256: bool,
    tweak: impl FnOnce(&mut ProviderSettings),
) -> (TestApp, TestProvider) {
    let redirect = format!("{PUBLIC_URL}/v1/oauth/corp/callback");
    let provider = TestProvider::start_with(&redirect, advertise_hs256).await;
    let mut settings = ProviderSettings {
        issuer: Some(provider.issuer.clone()),
        client_id: provider.client_id.clone(),
        client_secret: Some(provider.client_secret.clone()),
        ..ProviderSettings::default()
    };
    tweak(&mut settings);
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.providers.insert("corp".to_owned(), settings);
        s.allowed_origins = vec![APP.to_owned()];
    })
    .await;
    (app, provider)
}

/// A browser's social login up to the provider's redirect back: the pending-login cookie and
/// the callback URL (a path and query on hallpass).
struct Started {
    cookie: String,
    callback: String,
}

async fn start(app: &TestApp, provider: &TestProvider, query: &str, login: &str) -> Started {
    start_as(app, provider, query, login, None).await
}

/// As [`start`], from a browser that holds `session` (a logged-in user linking a provider).
async fn start_as(
    app: &TestApp,
    provider: &TestProvider,
    query: &str,
    login: &str,
    session: Option<&str>,
) -> Started {
    let mut request = app
        .client
        .get(app.url(&format!("/v1/oauth/corp/authorize{query}")));
    if let Some(session) = session {
        request = request.header(header::COOKIE, session);
    }
    let response = request.send().await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "authorize redirects"
    );
    let location = response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(location.starts_with(&provider.issuer), "{location}");
    for wanted in [
        "code_challenge_method=S256",
        "state=",
        "nonce=",
        "code_challenge=",
    ] {
        assert!(location.contains(wanted), "{wanted} in {location}");
    }
    let cookie = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("hallpass_oauth="))
        .expect("the pending login cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Path=/v1/oauth"),
        "{cookie}"
    );
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let back = provider.log_in(&location, login).await;
    assert!(back.as_str().starts_with(PUBLIC_URL), "{back}");
    let callback = format!("{}?{}", back.path(), back.query().unwrap_or_default());
    Started { cookie, callback }
}

async fn finish(app: &TestApp, cookie: Option<&str>, callback: &str) -> reqwest::Response {
    let mut request = app.client.get(app.url(callback));
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.send().await.unwrap()
}

fn session_of(response: &reqwest::Response) -> Option<String> {
    crate::helpers::session_cookie(response)
}

async fn me(app: &TestApp, session: &str) -> Value {
    app.get_with("/v1/me", session).await.json().await.unwrap()
}

#[tokio::test]
async fn a_first_login_creates_the_account_and_later_ones_find_it() {
    if !oidc_available() {
        return;
    }
    let (app, provider) = setup(|_| {}).await;
    let started = start(&app, &provider, "?next=/demo/board", "alice").await;
    let done = finish(&app, Some(&started.cookie), &started.callback).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(done.headers()[header::LOCATION], "/demo/board");
    let session = session_of(&done).expect("a session cookie");
    let first = me(&app, &session).await;
    assert_eq!(first["user"]["username"], "alice");
    assert_eq!(first["user"]["email"], "alice@example.test");
    assert_eq!(first["session"]["kind"], "cookie");

    let again = start(&app, &provider, "", "alice").await;
    let done = finish(&app, Some(&again.cookie), &again.callback).await;
    assert_eq!(done.headers()[header::LOCATION], "/account");
    let second = me(&app, &session_of(&done).unwrap()).await;
    assert_eq!(
        second["user"]["id"], first["user"]["id"],
        "the same account"
    );
    // No password was set: the account cannot log in with one.
    let attempt = app.try_login("alice", "").await;
    assert_eq!(attempt.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_callback_without_this_browsers_transaction_or_state_is_refused() {
    if !oidc_available() {
        return;
    }
    let (app, provider) = setup(|_| {}).await;
    let started = start(&app, &provider, "", "alice").await;
    // Another browser (no pending cookie): login CSRF / fixation across users.
    let stranger = finish(&app, None, &started.callback).await;
    assert_eq!(stranger.status(), StatusCode::BAD_REQUEST);
    let csp = stranger.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("default-src 'none'"),
        "error pages carry the page headers: {csp}"
    );
    assert!(
        !stranger
            .headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
    );
    assert!(session_of(&stranger).is_none());
    // Missing and wrong state.
    let without_state: String = started
        .callback
        .split('&')
        .filter(|p| !p.starts_with("state=") && !p.contains("?state="))
        .collect::<Vec<_>>()
        .join("&");
    let wrong_state = started.callback.replace("state=", "state=x");
    for callback in [without_state.as_str(), wrong_state.as_str()] {
        let response = finish(&app, Some(&started.cookie), callback).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{callback}");
        assert!(session_of(&response).is_none());
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("state does not match")
        );
    }
    // A tampered transaction cookie.
    let forged = format!("{}x", started.cookie);
    let response = finish(&app, Some(&forged), &started.callback).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(users(&app).await, 0, "nothing was created");
}

#[tokio::test]
async fn a_replayed_code_and_another_logins_verifier_are_refused() {
    if !oidc_available() {
        return;
    }
    let (app, provider) = setup(|_| {}).await;
    let first = start(&app, &provider, "", "alice").await;
    let done = finish(&app, Some(&first.cookie), &first.callback).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let replayed = finish(&app, Some(&first.cookie), &first.callback).await;
    assert_eq!(
        replayed.status(),
        StatusCode::BAD_REQUEST,
        "the code is spent"
    );
    assert!(replayed.text().await.unwrap().contains("refused the code"));

    // The code of login A with the transaction (state, verifier) of login B: PKCE mismatch.
    let a = start(&app, &provider, "", "bob").await;
    let b = start(&app, &provider, "", "bob").await;
    let code_of_a = param(&a.callback, "code");
    let mixed = b.callback.replace(&param(&b.callback, "code"), &code_of_a);
    let response = finish(&app, Some(&b.cookie), &mixed).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(session_of(&response).is_none());
    assert!(
        response.text().await.unwrap().contains("refused the code"),
        "PKCE"
    );
}

#[tokio::test]
async fn id_tokens_with_the_wrong_nonce_audience_issuer_expiry_or_algorithm_are_refused() {
    if !oidc_available() {
        return;
    }
    // The provider advertises HS256: only hallpass's own list of algorithms refuses an ID token
    // MAC'd with the client secret.
    let (app, provider) = setup_with(true, |_| {}).await;
    for tamper in [
        json!({ "nonce": "not-the-one" }),
        json!({ "aud": "someone-else" }),
        json!({ "aud": [provider.client_id.clone(), "someone-else"] }),
        json!({ "iss": "http://127.0.0.1:1" }),
        json!({ "exp": 1_000_000 }),
        json!({ "alg": "none" }),
        json!({ "alg": "HS256" }),
    ] {
        provider.tamper(tamper.clone()).await;
        let started = start(&app, &provider, "", "mallory").await;
        let response = finish(&app, Some(&started.cookie), &started.callback).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{tamper}");
        assert!(session_of(&response).is_none(), "{tamper}");
        let page = response.text().await.unwrap();
        assert!(page.contains("ID token is not valid"), "{tamper}: {page}");
    }
    provider.tamper(json!({})).await;
    assert_eq!(users(&app).await, 0);
}

#[tokio::test]
async fn a_response_naming_another_issuer_or_none_is_refused() {
    if !oidc_available() {
        return;
    }
    let (app, provider) = setup(|_| {}).await;
    let started = start(&app, &provider, "", "alice").await;
    let iss = param(&started.callback, "iss");
    let other = started.callback.replace(&iss, "http%3A%2F%2F127.0.0.1%3A1");
    let response = finish(&app, Some(&started.cookie), &other).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "mix-up");
    assert!(response.text().await.unwrap().contains("another issuer"));
    // The provider promises iss (RFC 9207), so a response without it is refused too.
    let without = started.callback.replace(&format!("&iss={iss}"), "");
    assert!(!without.contains("iss="), "{without}");
    let response = finish(&app, Some(&started.cookie), &without).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "no iss");
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("does not name its issuer")
    );
    assert_eq!(users(&app).await, 0);
}

#[tokio::test]
async fn next_only_ever_leads_to_a_path_on_hallpass() {
    if !oidc_available() {
        return;
    }
    let (app, provider) = setup(|_| {}).await;
    for evil in [
        "https://evil.test",
        "//evil.test",
        "/%2F%2Fevil.test",
        "/\\evil.test",
        "https:evil.test",
        "javascript:alert(1)",
    ] {
        let query = format!("?next={}", urlencode(evil));
        let started = start(&app, &provider, &query, "alice").await;
        let done = finish(&app, Some(&started.cookie), &started.callback).await;
        assert_eq!(done.headers()[header::LOCATION], "/account", "{evil}");
    }
}

#[tokio::test]
async fn a_verified_email_links_only_to_an_account_a_provider_made() {
    if !oidc_available() {
        return;
    }
    let (app, provider) = setup(|p| p.link_verified_email = true).await;
    // An account another provider made, with the address that provider verified.
    let made = hallpass_core::user::NewUser {
        id: hallpass_core::user::UserId(uuid::Uuid::new_v4()),
        username: hallpass_core::user::Username::parse("carol").unwrap(),
        email: Some(hallpass_core::user::Email::parse("carol@example.test").unwrap()),
        roles: Vec::new(),
        password_hash: hallpass_core::password::PasswordHash::unusable(),
        created_at: time::OffsetDateTime::now_utc(),
    };
    let identity = hallpass_core::identity::NewIdentity {
        user: made.id,
        provider: hallpass_core::identity::ProviderName::parse("other").unwrap(),
        subject: hallpass_core::identity::Subject::parse("carol-elsewhere").unwrap(),
        email: made.email.clone(),
        created_at: made.created_at,
    };
    app.state
        .stores
        .identities
        .create_user_with_identity(&made, &identity)
        .await
        .unwrap();
    let started = start(&app, &provider, "", "carol").await;
    let done = finish(&app, Some(&started.cookie), &started.callback).await;
    let linked = me(&app, &session_of(&done).unwrap()).await;
    assert_eq!(
        linked["user"]["id"],
        made.id.0.to_string(),
        "linked by verified email"
    );

    // A password account never is: hallpass did not verify the address typed at signup, and
    // whoever typed it first would receive the provider's logins (pre-account takeover).
    let squatter = app
        .post_json(
            "/v1/signup",
            json!({ "username": "dave", "password": PASSWORD, "email": "dave@example.test" }),
        )
        .await;
    assert_eq!(squatter.status(), StatusCode::CREATED);
    let started = start(&app, &provider, "", "dave").await;
    let done = finish(&app, Some(&started.cookie), &started.callback).await;
    let separate = me(&app, &session_of(&done).unwrap()).await;
    assert_ne!(separate["user"]["username"], "dave");

    // An address the provider did not verify is neither linked nor kept on the new account.
    let started = start(&app, &provider, "", "unverified-erin").await;
    let done = finish(&app, Some(&started.cookie), &started.callback).await;
    let erin = me(&app, &session_of(&done).unwrap()).await;
    assert_eq!(erin["user"]["email"], Value::Null);
}

#[tokio::test]
async fn the_login_page_offers_the_configured_providers() {
    if !oidc_available() {
        return;
    }
    let (app, _provider) = setup(|p| p.display_name = Some("Corp SSO".to_owned())).await;
    let html = app.page("/login", None).await.text().await.unwrap();
    assert!(
        html.contains("/v1/oauth/corp/authorize") && html.contains("Corp SSO"),
        "{html}"
    );
    // And to apps, as JSON an allowed origin may read.
    let listed = app
        .client
        .get(app.url("/v1/oauth/providers"))
        .header(header::ORIGIN, APP)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], APP);
    let listed: Value = listed.json().await.unwrap();
    assert_eq!(
        listed,
        json!({ "providers": [{ "name": "corp", "display_name": "Corp SSO" }] })
    );
}

#[tokio::test]
async fn a_logged_in_user_links_and_unlinks_but_never_the_last_way_in() {
    if !oidc_available() {
        return;
    }
    let (app, provider) = setup(|_| {}).await;
    app.signup("alice").await;
    let alice = app.login("alice").await;
    let account = app
        .page("/account", Some(&alice))
        .await
        .text()
        .await
        .unwrap();
    assert!(account.contains("data-testid=\"link-corp\""), "{account}");

    // Linking needs a session.
    let stranger = app
        .client
        .get(app.url("/v1/oauth/corp/authorize?link=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.headers()[header::LOCATION], "/login");

    let started = start_as(
        &app,
        &provider,
        "?link=1&next=/account",
        "alice-at-corp",
        Some(&alice.cookie),
    )
    .await;
    let both = format!("{}; {}", alice.cookie, started.cookie);
    let done = finish(&app, Some(&both), &started.callback).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(done.headers()[header::LOCATION], "/account");
    assert!(
        session_of(&done).is_none(),
        "the linking session stays as it is"
    );
    assert_eq!(app.me(&alice).await, StatusCode::OK);
    let account = app
        .page("/account", Some(&alice))
        .await
        .text()
        .await
        .unwrap();
    assert!(account.contains("data-testid=\"unlink-corp\""), "{account}");

    // Logging in with the provider now reaches Alice's account.
    let via = start(&app, &provider, "", "alice-at-corp").await;
    let done = finish(&app, Some(&via.cookie), &via.callback).await;
    let me_via = me(&app, &session_of(&done).unwrap()).await;
    assert_eq!(me_via["user"]["username"], "alice");

    // The same provider account cannot be linked to a second user.
    app.signup("bob").await;
    let bob = app.login("bob").await;
    let again = start_as(
        &app,
        &provider,
        "?link=1",
        "alice-at-corp",
        Some(&bob.cookie),
    )
    .await;
    let both = format!("{}; {}", bob.cookie, again.cookie);
    let refused = finish(&app, Some(&both), &again.callback).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);

    // Alice has a password: she may unlink.
    let unlinked = app
        .post_form(
            "/account/identities/corp/unlink",
            &alice,
            &[("csrf_token", &alice.csrf)],
        )
        .await;
    assert_eq!(unlinked.status(), StatusCode::OK);
    assert!(unlinked.text().await.unwrap().contains("no longer linked"));

    // An account made by the provider has no password: its only way in stays.
    let carol = start(&app, &provider, "", "carol").await;
    let done = finish(&app, Some(&carol.cookie), &carol.callback).await;
    let session = session_of(&done).unwrap();
    let page = app
        .get_with("/account", &session)
        .await
        .text()
        .await
        .unwrap();
    let csrf = crate::pages::hidden_token(&page);
    let unlink = [("csrf_token", csrf.as_str())];
    let refused = post_page(&app, &session, "/account/identities/corp/unlink", &unlink).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(refused.text().await.unwrap().contains("only way to log in"));
    assert_eq!(me(&app, &session).await["user"]["username"], "carol");

    // Carol sets a first password (there is no current one to give), then may unlink.
    assert!(page.contains("Set a password") && !page.contains("id=\"current_password\""));
    let fields = [("new_password", PASSWORD), ("csrf_token", csrf.as_str())];
    let set = post_page(&app, &session, "/account/password", &fields).await;
    assert_eq!(set.status(), StatusCode::OK);
    assert_eq!(
        app.try_login("carol", PASSWORD).await.status(),
        StatusCode::OK
    );
    let unlinked = post_page(&app, &session, "/account/identities/corp/unlink", &unlink).await;
    assert_eq!(unlinked.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_single_page_app_signs_in_with_tokens_and_no_token_in_any_url() {
    if !oidc_available() {
        return;
    }
    let (app, provider) = setup(|_| {}).await;
    let return_to = format!("{APP}/signed-in?x=1");
    let query = format!("?mode=token&return_to={}", urlencode(&return_to));
    let started = start(&app, &provider, &query, "erin").await;
    let done = finish(&app, Some(&started.cookie), &started.callback).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let location = done.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(location, return_to, "back to the app, with nothing added");
    assert!(session_of(&done).is_none(), "no page session in token mode");
    let refresh = done
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("hallpass_refresh=") && !c.starts_with("hallpass_refresh=;"))
        .expect("the refresh cookie");
    assert!(
        refresh.contains("HttpOnly") && refresh.contains("Path=/v1/token"),
        "{refresh}"
    );
    let refresh = refresh.split(';').next().unwrap().to_owned();

    // The app signs in by refreshing through the cookie, as the SDK's restore() does.
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
    let access = tokens["access_token"].as_str().expect("an access token");
    let me: Value = app
        .bearer(reqwest::Method::GET, "/v1/me", access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["username"], "erin");
    assert_eq!(me["session"]["kind"], "token");

    // Only an allowed origin may be returned to, and token mode needs one.
    for query in [
        format!("?mode=token&return_to={}", urlencode("https://evil.test/")),
        format!(
            "?mode=token&return_to={}",
            urlencode("http://app.hallpass.test.evil.test/")
        ),
        format!(
            "?mode=token&return_to={}",
            urlencode("http://user@app.hallpass.test/")
        ),
        "?mode=token".to_owned(),
        "?mode=magic".to_owned(),
    ] {
        let response = app
            .client
            .get(app.url(&format!("/v1/oauth/corp/authorize{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert!(
            !response.headers().contains_key(header::SET_COOKIE),
            "{query}"
        );
    }
}

/// A page form posted from our own origin with a session cookie.
async fn post_page(
    app: &TestApp,
    session: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header(header::COOKIE, session)
        .header("sec-fetch-site", "same-origin")
        .form(fields)
        .send()
        .await
        .unwrap()
}

async fn users(app: &TestApp) -> usize {
    app.state
        .stores
        .users
        .list_users(&hallpass_store::UserQuery {
            search: None,
            limit: 100,
            offset: 0,
        })
        .await
        .unwrap()
        .len()
}

fn param(callback: &str, name: &str) -> String {
    let query = callback.split_once('?').map_or("", |(_, q)| q);
    query
        .split('&')
        .find_map(|p| p.strip_prefix(&format!("{name}=")))
        .unwrap_or_default()
        .to_owned()
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
