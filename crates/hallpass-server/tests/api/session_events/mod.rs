//! `GET /v1/session/events`: a page learns at once that its session ended elsewhere.
//! `caps`: how many streams a session, a user and the node may hold; `expiry`: streams end
//! when their session expires.

mod caps;
mod expiry;

use std::time::Duration;

use hallpass_server::config::ConfigDuration;
use reqwest::{Method, StatusCode, header};

use crate::helpers::{
    Backend, Login, PUBLIC_URL, TestApp, eventually, problem, spawn_app, spawn_app_with,
};

/// An open event stream, read as text.
pub(super) struct Stream {
    response: reqwest::Response,
    seen: String,
}

impl Stream {
    pub(super) async fn open(request: reqwest::RequestBuilder) -> Self {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/event-stream",
            "an event stream"
        );
        let mut stream = Self {
            response,
            seen: String::new(),
        };
        stream.expect("event: session").await;
        stream
    }

    /// Reads until `text` has arrived (bounded: a stream that never says it fails the test).
    pub(super) async fn expect(&mut self, text: &str) {
        let deadline = Duration::from_secs(5);
        let read = async {
            while !self.seen.contains(text) {
                match self.response.chunk().await.unwrap() {
                    Some(chunk) => self.seen.push_str(&String::from_utf8_lossy(&chunk)),
                    None => return false,
                }
            }
            true
        };
        let arrived = tokio::time::timeout(deadline, read).await;
        assert!(
            matches!(arrived, Ok(true)),
            "expected {text:?} on the stream; got {:?}",
            self.seen
        );
    }

    /// Asserts the stream says nothing for `wait` (the next keep-alive is 15 s away).
    pub(super) async fn quiet(&mut self, wait: Duration) {
        let next = tokio::time::timeout(wait, self.response.chunk()).await;
        assert!(
            next.is_err(),
            "the stream said something: {next:?} after {:?}",
            self.seen
        );
    }

    /// Whether the server closed the stream (after `ended`).
    pub(super) async fn closed(&mut self) -> bool {
        let next = tokio::time::timeout(Duration::from_secs(5), self.response.chunk()).await;
        matches!(next, Ok(Ok(None)))
    }
}

pub(super) fn by_cookie(app: &TestApp, login: &Login) -> reqwest::RequestBuilder {
    app.client
        .get(app.url("/v1/session/events"))
        .header(header::COOKIE, &login.cookie)
}

#[tokio::test]
async fn a_device_logged_out_from_another_hears_it_at_once() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let laptop = app.login("alice").await;
    let phone = app.login("alice").await;
    let mut stream = Stream::open(by_cookie(&app, &laptop)).await;
    assert!(stream.seen.contains(&laptop.session_id), "{}", stream.seen);

    let path = format!("/v1/sessions/{}", laptop.session_id);
    let revoked = app.write(Method::DELETE, &path, &phone, None).await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);

    stream.expect("event: ended").await;
    assert!(
        stream.seen.contains(r#"{"reason":"revoked"}"#),
        "{}",
        stream.seen
    );
    assert!(stream.closed().await, "the stream ends with the session");
    assert_eq!(
        app.state.tokens.revoked.watched(),
        0,
        "nothing left watching"
    );
}

#[tokio::test]
async fn a_page_that_goes_away_stops_being_watched() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let login = app.login("alice").await;
    let first = Stream::open(by_cookie(&app, &login)).await;
    let second = Stream::open(by_cookie(&app, &login)).await;
    assert_eq!(
        app.state.tokens.revoked.watched(),
        1,
        "one entry per session"
    );
    drop(first);
    drop(second);
    eventually("the server to notice both pages left", || async {
        app.state.tokens.revoked.watched() == 0
    })
    .await;
}

#[tokio::test]
async fn other_sessions_ending_say_nothing_to_this_one() {
    let app = spawn_app().await;
    app.signup("alice").await;
    app.signup("bob").await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let mut stream = Stream::open(by_cookie(&app, &alice)).await;
    let logout = app.write(Method::POST, "/v1/logout", &bob, None).await;
    assert_eq!(logout.status(), StatusCode::OK);
    // A wrongly delivered end would be written while Bob's logout was handled, before its
    // answer: it would be readable at once. (The next keep-alive is 15 s away.)
    let next = tokio::time::timeout(Duration::from_millis(300), stream.response.chunk()).await;
    assert!(next.is_err(), "Alice's stream said something: {next:?}");
    assert!(!stream.seen.contains("event: ended"), "{}", stream.seen);
    let alice_out = app.write(Method::POST, "/v1/logout", &alice, None).await;
    assert_eq!(alice_out.status(), StatusCode::OK);
    stream.expect("event: ended").await;
}

#[tokio::test]
async fn an_evicted_session_hears_it_when_the_limit_pushes_it_out() {
    // No reconcile to fall back on: the eviction itself must be announced.
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.max_sessions_per_user = Some(1);
        s.reconcile_interval = ConfigDuration::hours(1);
    })
    .await;
    app.signup("alice").await;
    let first = app.login("alice").await;
    let mut stream = Stream::open(by_cookie(&app, &first)).await;
    let _second = app.login("alice").await;
    stream.expect("event: ended").await;
}

#[tokio::test]
async fn a_token_session_forced_out_by_an_admin_hears_it() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.reconcile_interval = ConfigDuration::hours(1)
    })
    .await;
    let user = app.signup("alice").await;
    let root = app.admin("root").await;
    let tokens = app.tokens("alice").await;
    let request = app
        .client
        .get(app.url("/v1/session/events"))
        .bearer_auth(&tokens.access);
    let mut stream = Stream::open(request).await;

    let path = format!(
        "/v1/admin/users/{}/logout",
        user["user"]["id"].as_str().unwrap()
    );
    let forced = app.write(Method::POST, &path, &root, None).await;
    assert_eq!(forced.status(), StatusCode::NO_CONTENT);
    stream.expect("event: ended").await;
}

#[tokio::test]
async fn a_session_revoked_before_the_stream_opens_cannot_open_one() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let login = app.login("alice").await;
    let logout = app.write(Method::POST, "/v1/logout", &login, None).await;
    assert_eq!(logout.status(), StatusCode::OK);
    let response = by_cookie(&app, &login).send().await.unwrap();
    problem(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let anonymous = app
        .client
        .get(app.url("/v1/session/events"))
        .send()
        .await
        .unwrap();
    problem(anonymous, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

#[tokio::test]
async fn another_nodes_revocation_reaches_a_stream_on_this_node() {
    if !crate::helpers::postgres_available() {
        return;
    }
    let channel = crate::helpers::bus_channel();
    let a = spawn_app_with(Backend::Postgres, |s| {
        s.bus_channel = channel;
        s.reconcile_interval = ConfigDuration::hours(1);
    })
    .await;
    let b = a.another_node().await;
    a.signup("alice").await;
    let on_a = a.login("alice").await;
    let on_b = b.login("alice").await;
    let mut stream = Stream::open(by_cookie(&a, &on_a)).await;
    // Node B ends every session of Alice's; node A hears it over LISTEN/NOTIFY.
    let request = b
        .client
        .post(b.url("/v1/logout"))
        .header(header::COOKIE, &on_b.cookie)
        .header("x-csrf-token", &on_b.csrf)
        .header(header::ORIGIN, PUBLIC_URL)
        .json(&serde_json::json!({ "scope": "global" }));
    assert_eq!(request.send().await.unwrap().status(), StatusCode::OK);
    stream.expect("event: ended").await;
}
