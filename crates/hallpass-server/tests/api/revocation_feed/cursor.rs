//! Cursors the feed cannot mean are refused with a problem, never a panic.

use reqwest::StatusCode;

use crate::helpers::{ClockReading, problem, spawn_app};

#[tokio::test]
async fn cursors_outside_what_the_feed_can_mean_are_refused() {
    let app = spawn_app().await;
    let now = hallpass_core::clock::to_micros(app.clock.now_for_tests());
    let a_day_ahead = (now + 86_400_000_000).to_string();
    for since in [
        "-9223372036854775808",
        "9223372036854775807",
        "-1",
        "9223372036854775808",
        "-9223372036854775809",
        "99999999999999999999999",
        a_day_ahead.as_str(),
    ] {
        let response = app
            .client
            .get(app.url(&format!("/v1/revocations?since={since}")))
            .send()
            .await
            .unwrap();
        problem(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
    let fine = app
        .client
        .get(app.url("/v1/revocations?since=0"))
        .send()
        .await
        .unwrap();
    assert_eq!(fine.status(), StatusCode::OK, "the epoch is merely old");
}
