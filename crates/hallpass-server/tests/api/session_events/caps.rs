//! Open streams are capped per session, per user and per node; a refused stream is told when
//! to come back, and a closed stream gives its place back.

use reqwest::{StatusCode, header};

use super::{Stream, by_cookie};
use crate::helpers::{Backend, TestApp, eventually, problem, spawn_app, spawn_app_with};

/// Asserts a refusal with `status`/`code` and a `Retry-After` of whole seconds.
async fn refused(response: reqwest::Response, status: StatusCode, code: &str) {
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    assert!(
        retry_after.is_some_and(|s| s >= 1),
        "Retry-After: {retry_after:?}"
    );
    problem(response, status, code).await;
}

/// Waits until the node holds exactly `open` streams (the server notices a client leave).
async fn open_streams(app: &TestApp, open: u32) {
    eventually("the node to count the open streams", || async {
        app.state.event_streams.limits.open() == open
    })
    .await;
}

#[tokio::test]
async fn the_fifth_stream_of_a_session_is_refused_until_one_closes() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let login = app.login("alice").await;
    let mut streams = Vec::new();
    for _ in 0..4 {
        streams.push(Stream::open(by_cookie(&app, &login)).await);
    }
    let fifth = by_cookie(&app, &login).send().await.unwrap();
    refused(fifth, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    assert_eq!(
        app.state.event_streams.limits.open(),
        4,
        "the refusal held nothing"
    );

    // Another session of the same user has its own four.
    let other = app.login("alice").await;
    let mut theirs = Stream::open(by_cookie(&app, &other)).await;

    drop(streams.pop());
    open_streams(&app, 4).await;
    streams.push(Stream::open(by_cookie(&app, &login)).await);

    // A stream that ended (its session revoked) gives its place back too.
    let logout = app
        .write(reqwest::Method::POST, "/v1/logout", &other, None)
        .await;
    assert_eq!(logout.status(), StatusCode::OK);
    theirs.expect("event: ended").await;
    open_streams(&app, 4).await;
}

#[tokio::test]
async fn a_user_is_capped_across_sessions() {
    let app = spawn_app().await;
    app.signup("alice").await;
    app.signup("bob").await;
    let mut streams = Vec::new();
    for _ in 0..4 {
        let login = app.login("alice").await;
        for _ in 0..4 {
            streams.push(Stream::open(by_cookie(&app, &login)).await);
        }
    }
    // Sixteen open: a fresh session of Alice's gets not even one.
    let fifth_device = app.login("alice").await;
    let response = by_cookie(&app, &fifth_device).send().await.unwrap();
    refused(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Bob is not Alice.
    let bob = app.login("bob").await;
    let _bobs = Stream::open(by_cookie(&app, &bob)).await;

    drop(streams.pop());
    open_streams(&app, 16).await;
    let _now_fits = Stream::open(by_cookie(&app, &fifth_device)).await;
}

#[tokio::test]
async fn the_node_cap_answers_503_with_retry_after() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.max_event_streams = 2).await;
    let mut logins = Vec::new();
    for name in ["alice", "bob", "carol"] {
        app.signup(name).await;
        logins.push(app.login(name).await);
    }
    let first = Stream::open(by_cookie(&app, &logins[0])).await;
    let _second = Stream::open(by_cookie(&app, &logins[1])).await;
    let third = by_cookie(&app, &logins[2]).send().await.unwrap();
    refused(third, StatusCode::SERVICE_UNAVAILABLE, "overloaded").await;

    drop(first);
    open_streams(&app, 1).await;
    let _admitted = Stream::open(by_cookie(&app, &logins[2])).await;
}
