//! A stream ends with its session's idle or absolute expiry, judged by the server's clock (a
//! manual one here): the clock jumps, and the stream ends within the server's expiry tick.

use std::time::Duration;

use hallpass_server::config::ConfigDuration;
use reqwest::StatusCode;

use super::{Stream, by_cookie};
use crate::helpers::{Backend, ClockReading, eventually, spawn_app_with};

const EXPIRED: &str = r#"{"reason":"expired"}"#;

/// A server with `tweak`ed settings and Alice logged in by cookie, her event stream open.
async fn alice_streaming(
    tweak: impl FnOnce(&mut hallpass_server::config::Settings),
) -> (crate::helpers::TestApp, crate::helpers::Login, Stream) {
    let app = spawn_app_with(Backend::Sqlite, tweak).await;
    app.signup("alice").await;
    let login = app.login("alice").await;
    let stream = Stream::open(by_cookie(&app, &login)).await;
    (app, login, stream)
}

#[tokio::test]
async fn a_stream_ends_when_its_session_reaches_its_absolute_lifetime() {
    let (app, _login, mut stream) =
        alice_streaming(|s| s.session_lifetime = ConfigDuration::hours(1)).await;
    app.advance(time::Duration::minutes(61));
    stream.expect("event: ended").await;
    assert!(stream.seen.contains(EXPIRED), "{}", stream.seen);
    assert!(stream.closed().await, "the stream ends with the session");
    eventually("the stream's place to be given back", || async {
        app.state.event_streams.limits.open() == 0 && app.state.event_streams.deadlines.is_empty()
    })
    .await;
}

#[tokio::test]
async fn a_stream_ends_after_the_idle_timeout_without_activity() {
    let (app, login, mut stream) =
        alice_streaming(|s| s.session_idle_timeout = ConfigDuration::minutes(10)).await;
    app.advance(time::Duration::minutes(10));
    stream.expect("event: ended").await;
    assert!(stream.seen.contains(EXPIRED), "{}", stream.seen);
    assert_eq!(
        app.me(&login).await,
        StatusCode::UNAUTHORIZED,
        "and the session is over"
    );
}

#[tokio::test]
async fn activity_elsewhere_in_the_session_carries_its_stream_past_the_idle_deadline() {
    let (app, login, mut stream) =
        alice_streaming(|s| s.session_idle_timeout = ConfigDuration::minutes(10)).await;
    let opened = app.clock.now_for_tests();

    // Another request of the session, six minutes in: the idle deadline moves to 16 minutes.
    app.advance(time::Duration::minutes(6));
    assert_eq!(app.me(&login).await, StatusCode::OK);
    app.advance(time::Duration::minutes(5));
    // Past the first deadline: the stream looks at its session again and waits for the new one.
    let rearmed = opened + time::Duration::minutes(16);
    eventually(
        "the stream to set its alarm for the new idle deadline",
        || async { app.state.event_streams.deadlines.earliest() == Some(rearmed) },
    )
    .await;
    stream.quiet(Duration::from_millis(300)).await;
    assert!(!stream.seen.contains("event: ended"), "{}", stream.seen);

    app.advance(time::Duration::minutes(5));
    stream.expect("event: ended").await;
    assert!(stream.seen.contains(EXPIRED), "{}", stream.seen);
}
