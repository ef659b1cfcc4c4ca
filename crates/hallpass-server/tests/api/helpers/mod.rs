//! `spawn_app()`: a real server on an ephemeral port with its own database and a manual clock.

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use hallpass_core::clock::ManualClock;
use hallpass_server::{
    config::{Argon2Settings, EmailSettings, RateLimitSettings, Settings},
    startup::Application,
    state::AppState,
};
use reqwest::{Response, StatusCode, header};
use serde_json::{Value, json};
use tempfile::TempDir;
use time::OffsetDateTime;

mod backends;
mod cookies;
mod raw;
mod smtp;
mod tokens;
use backends::postgres_schema_url;
pub(crate) use backends::{
    bus_channel, eventually, eventually_within, postgres_available, redis_url,
};
pub(crate) use cookies::{cookie_header, has_attribute, set_cookie_named, set_cookies};
pub(crate) use raw::read_response;
pub(crate) use smtp::{ReceivedMail, SmtpSink};
pub(crate) use tokens::{claims_of, oauth_error, tokens_from};

/// The origin tests present as "our own" (the configured public URL).
pub(crate) const PUBLIC_URL: &str = "http://hallpass.test";
/// The bearer token test servers require for `/metrics` (`metrics_token`).
pub(crate) const METRICS_TOKEN: &str = "test-metrics-token-0123456789abcdef";
/// A password strong enough for the rules.
pub(crate) const PASSWORD: &str = "violet anchor trombone seven";

/// Which database a test server runs on.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

/// A running server and what a test needs to talk to it.
pub(crate) struct TestApp {
    pub(crate) addr: SocketAddr,
    /// The operations listener (`metrics_listen`), when the settings ask for one.
    pub(crate) ops_addr: Option<SocketAddr>,
    pub(crate) client: reqwest::Client,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) state: AppState,
    pub(crate) settings: Settings,
    pub(crate) dir: TempDir,
}

/// A logged-in browser: its cookie and CSRF token.
#[derive(Debug, Clone)]
pub(crate) struct Login {
    pub(crate) cookie: String,
    pub(crate) token: String,
    pub(crate) csrf: String,
    pub(crate) session_id: String,
    pub(crate) body: Value,
}

/// Settings for a test server: cheap argon2, generous limits.
pub(crate) fn test_settings(dir: &TempDir) -> Settings {
    Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        public_url: PUBLIC_URL.to_owned(),
        database_url: format!("sqlite://{}", dir.path().join("hallpass.db").display()),
        argon2: Argon2Settings {
            m_cost: 256,
            t_cost: 1,
            p_cost: 1,
        },
        rate_limit: RateLimitSettings {
            per_ip_per_minute: 10_000,
            ..RateLimitSettings::default()
        },
        metrics_token: Some(METRICS_TOKEN.into()),
        email: EmailSettings {
            from: "hallpass <no-reply@hallpass.test>".to_owned(),
            // Mail queued elsewhere or due for a retry is found this soon (retries are judged
            // by the injected clock; this is only how often the worker looks).
            outbox_poll_interval: "100ms".parse().unwrap(),
            ..EmailSettings::default()
        },
        ..Settings::default()
    }
}

/// A server on `backend` whose mail goes to `sink`.
pub(crate) async fn spawn_app_with_mail(
    backend: Backend,
    sink: &SmtpSink,
    tweak: impl FnOnce(&mut Settings),
) -> TestApp {
    let url = sink.url();
    spawn_app_with(backend, move |settings| {
        settings.email.smtp_url = Some(url);
        tweak(settings);
    })
    .await
}

pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(Backend::Sqlite, |_| {}).await
}

/// A server on `backend` with settings adjusted by `tweak`. Postgres tests skip (return a
/// server on SQLite is never done silently): they need `HALLPASS_TEST_POSTGRES_URL`.
pub(crate) async fn spawn_app_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    init_logging();
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(&dir);
    if let Backend::Postgres = backend {
        settings.database_url = postgres_schema_url().await;
    }
    tweak(&mut settings);
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    start(settings, clock, dir).await
}

/// Starts a server with exactly these settings, clock and directory (for restarts).
pub(crate) async fn start(settings: Settings, clock: Arc<ManualClock>, dir: TempDir) -> TestApp {
    let app = Application::build(&settings, clock.clone()).await.unwrap();
    let addr = app.local_addr().unwrap();
    let ops_addr = app.ops_addr();
    let state = app.state().clone();
    tokio::spawn(app.run_until(std::future::pending()));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("hallpass-tests/1.0 (X11; Linux x86_64) Firefox/128.0")
        .build()
        .unwrap();
    TestApp {
        addr,
        ops_addr,
        client,
        clock,
        state,
        settings,
        dir,
    }
}

fn init_logging() {
    if std::env::var("TEST_LOG").is_ok() {
        hallpass_server::telemetry::init_logging(hallpass_server::config::LogFormat::Text);
    }
}

impl TestApp {
    /// Another node of the same cluster: the same settings (database, secret, bus) and clock.
    pub(crate) async fn another_node(&self) -> TestApp {
        self.node_with_clock(self.clock.clone()).await
    }

    /// Another node of the same cluster with a clock of its own (a skewed node).
    pub(crate) async fn node_with_clock(&self, clock: Arc<ManualClock>) -> TestApp {
        start(self.settings.clone(), clock, tempfile::tempdir().unwrap()).await
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub(crate) fn db_path(&self) -> PathBuf {
        self.dir.path().join("hallpass.db")
    }

    pub(crate) async fn post_json(&self, path: &str, body: Value) -> Response {
        self.client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// A cookie-authenticated JSON write from our own origin carrying the CSRF token.
    pub(crate) async fn write(
        &self,
        method: reqwest::Method,
        path: &str,
        login: &Login,
        body: Option<Value>,
    ) -> Response {
        let mut request = self
            .client
            .request(method, self.url(path))
            .header(header::COOKIE, &login.cookie)
            .header("x-csrf-token", &login.csrf)
            .header("sec-fetch-site", "same-origin")
            .header(header::ORIGIN, PUBLIC_URL);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    /// A page form posted from our own origin with the caller's cookie.
    pub(crate) async fn post_form(
        &self,
        path: &str,
        login: &Login,
        fields: &[(&str, &str)],
    ) -> Response {
        self.client
            .post(self.url(path))
            .header(header::COOKIE, &login.cookie)
            .header("sec-fetch-site", "same-origin")
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    /// A page, as a stranger or with the caller's cookie.
    pub(crate) async fn page(&self, path: &str, login: Option<&Login>) -> Response {
        let mut request = self.client.get(self.url(path));
        if let Some(login) = login {
            request = request.header(header::COOKIE, &login.cookie);
        }
        request.send().await.unwrap()
    }

    /// A `/metrics` scrape with the test servers' token.
    pub(crate) async fn metrics(&self) -> String {
        let response = self
            .client
            .get(self.url("/metrics"))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.text().await.unwrap()
    }

    pub(crate) async fn get_with(&self, path: &str, cookie: &str) -> Response {
        self.client
            .get(self.url(path))
            .header(header::COOKIE, cookie)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn me(&self, login: &Login) -> StatusCode {
        self.get_with("/v1/me", &login.cookie).await.status()
    }

    pub(crate) async fn signup(&self, username: &str) -> Value {
        let response = self
            .post_json(
                "/v1/signup",
                json!({ "username": username, "password": PASSWORD }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "signup {username}");
        response.json().await.unwrap()
    }

    pub(crate) async fn try_login(&self, username: &str, password: &str) -> Response {
        self.post_json(
            "/v1/login",
            json!({ "username": username, "password": password }),
        )
        .await
    }

    pub(crate) async fn login(&self, username: &str) -> Login {
        let response = self.try_login(username, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK, "login {username}");
        login_from(response).await
    }

    /// Signs a user up and makes them an admin through the store (as `hallpass user create --role admin` would).
    pub(crate) async fn admin(&self, username: &str) -> Login {
        let user = self.signup(username).await;
        let id = hallpass_core::user::UserId(user["user"]["id"].as_str().unwrap().parse().unwrap());
        let update = hallpass_store::UserUpdate {
            roles: Some(vec![hallpass_core::user::Role::admin()]),
            disabled: None,
        };
        self.state
            .stores
            .users
            .update_user(id, &update, self.clock.now_for_tests())
            .await
            .unwrap();
        self.login(username).await
    }

    pub(crate) fn advance(&self, by: time::Duration) {
        self.clock.advance(by);
    }
}

/// The session cookie a response set, as a `Cookie` header value.
pub(crate) fn session_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("hallpass_session=") && !v.starts_with("hallpass_session=;"))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

pub(crate) async fn login_from(response: Response) -> Login {
    let cookie = session_cookie(&response).expect("a session cookie");
    let body: Value = response.json().await.unwrap();
    Login {
        token: cookie.trim_start_matches("hallpass_session=").to_owned(),
        cookie,
        csrf: body["csrf_token"].as_str().unwrap().to_owned(),
        session_id: body["session"]["id"].as_str().unwrap().to_owned(),
        body,
    }
}

/// Reads a problem+json body, checking its content type, status field and code.
pub(crate) async fn problem(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "application/problem+json",
        "problem content type"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status.as_u16());
    body
}

/// The manual clock's reading, for assertions.
pub(crate) trait ClockReading {
    fn now_for_tests(&self) -> time::OffsetDateTime;
}

impl ClockReading for ManualClock {
    fn now_for_tests(&self) -> time::OffsetDateTime {
        hallpass_core::clock::Clock::now(self)
    }
}
