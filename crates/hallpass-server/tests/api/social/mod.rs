//! Social login against a real OpenID provider (npm `oidc-provider`, started per test): the
//! whole flow over HTTP, and every way a callback can be wrong. This module holds the browser
//! stand-in (start a login, finish it at the callback); the tests are by subject.

mod accounts;
mod apps;
mod callbacks;
mod factors;
mod replays;
mod tossing;

use hallpass_server::config::ProviderSettings;
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, PASSWORD, PUBLIC_URL, TestApp, postgres_available, spawn_app_with},
    oidc_provider::{TestProvider, oidc_available},
};

/// A single-page app's origin, in `allowed_origins`.
const APP: &str = "http://app.hallpass.test";

/// A hallpass with the test provider configured as `corp`, and the provider.
async fn setup(tweak: impl FnOnce(&mut ProviderSettings)) -> (TestApp, TestProvider) {
    setup_with(false, tweak).await
}

async fn setup_with(
    advertise_hs256: bool,
    tweak: impl FnOnce(&mut ProviderSettings),
) -> (TestApp, TestProvider) {
    let provider = TestProvider::start_with(&redirect_uri(), advertise_hs256).await;
    let app = app_for(&provider, Backend::Sqlite, tweak).await;
    (app, provider)
}

/// The redirect URI hallpass registers at the test provider.
fn redirect_uri() -> String {
    format!("{PUBLIC_URL}/v1/oauth/corp/callback")
}

/// The backends a test runs on: SQLite, and PostgreSQL when it is configured.
fn backends() -> Vec<Backend> {
    let mut backends = vec![Backend::Sqlite];
    if postgres_available() {
        backends.push(Backend::Postgres);
    }
    backends
}

/// A hallpass on `backend` with `provider` configured as `corp`.
async fn app_for(
    provider: &TestProvider,
    backend: Backend,
    tweak: impl FnOnce(&mut ProviderSettings),
) -> TestApp {
    let mut settings = provider_settings(provider);
    tweak(&mut settings);
    spawn_app_with(backend, |s| {
        s.providers.insert("corp".to_owned(), settings);
        s.allowed_origins = vec![APP.to_owned()];
    })
    .await
}

/// `provider` as hallpass's settings name it.
fn provider_settings(provider: &TestProvider) -> ProviderSettings {
    ProviderSettings {
        issuer: Some(provider.issuer.clone()),
        client_id: provider.client_id.clone(),
        client_secret: Some(provider.client_secret.clone()),
        ..ProviderSettings::default()
    }
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
        .find(|c| c.starts_with("hallpass_oauth=") || c.starts_with("__Host-hallpass_oauth="))
        .expect("the pending login cookie");
    assert!(
        cookie.contains("HttpOnly") && crate::helpers::has_attribute(cookie, "Path=/"),
        "{cookie}"
    );
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let back = provider.log_in(&location, login).await;
    assert!(
        back.as_str().starts_with(&app.settings.public_url),
        "{back}"
    );
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
