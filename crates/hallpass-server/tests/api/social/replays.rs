//! A social-login transaction is finished once: a replayed callback (the same cookie, state and
//! code) opens no second session, on this node or another, even when the provider would
//! exchange the code again.

use super::*;

/// The live sessions of the user `session` belongs to, as they list them.
async fn sessions(app: &TestApp, session: &str) -> Vec<Value> {
    let listed: Value = app
        .get_with("/v1/sessions", session)
        .await
        .json()
        .await
        .unwrap();
    listed["sessions"].as_array().unwrap().clone()
}

/// The replay is refused by hallpass itself, with a page that says why, and sets no cookie of a
/// session (the only cookie it touches is the spent transaction's, cleared).
async fn assert_replay_refused(replayed: reqwest::Response) {
    assert_eq!(replayed.status(), StatusCode::BAD_REQUEST);
    assert!(session_of(&replayed).is_none(), "no second page session");
    let new_cookies: Vec<&str> = replayed
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .filter(|c| !c.contains("Max-Age=0"))
        .collect();
    assert!(new_cookies.is_empty(), "{new_cookies:?}");
    let page = replayed.text().await.unwrap();
    assert!(page.contains("completed already"), "{page}");
}

#[tokio::test]
async fn a_replayed_callback_opens_no_second_session_even_if_the_provider_takes_the_code_again() {
    if !oidc_available() {
        return;
    }
    let provider = TestProvider::start_allowing_code_reuse(&redirect_uri()).await;
    for backend in backends() {
        let app = app_for(&provider, backend, |_| {}).await;
        let started = start(&app, &provider, "", "alice").await;
        let done = finish(&app, Some(&started.cookie), &started.callback).await;
        assert_eq!(done.status(), StatusCode::SEE_OTHER, "{backend:?}");
        let session = session_of(&done).expect("a session cookie");

        let replayed = finish(&app, Some(&started.cookie), &started.callback).await;
        assert_replay_refused(replayed).await;
        assert_eq!(sessions(&app, &session).await.len(), 1, "{backend:?}");
    }
}

#[tokio::test]
async fn a_callback_replayed_on_another_node_is_refused_too() {
    if !oidc_available() {
        return;
    }
    let provider = TestProvider::start_allowing_code_reuse(&redirect_uri()).await;
    for backend in backends() {
        let app = app_for(&provider, backend, |_| {}).await;
        let other = app.another_node().await;
        let started = start(&app, &provider, "", "alice").await;
        let done = finish(&app, Some(&started.cookie), &started.callback).await;
        assert_eq!(done.status(), StatusCode::SEE_OTHER, "{backend:?}");
        let session = session_of(&done).expect("a session cookie");

        let replayed = finish(&other, Some(&started.cookie), &started.callback).await;
        assert_replay_refused(replayed).await;
        assert_eq!(sessions(&other, &session).await.len(), 1, "{backend:?}");
    }
}

#[tokio::test]
async fn a_replayed_token_mode_callback_opens_no_second_token_session() {
    if !oidc_available() {
        return;
    }
    let provider = TestProvider::start_allowing_code_reuse(&redirect_uri()).await;
    let app = app_for(&provider, Backend::Sqlite, |_| {}).await;
    let query = format!("?mode=token&return_to={}", urlencode(&format!("{APP}/")));
    let started = start(&app, &provider, &query, "erin").await;
    let done = finish(&app, Some(&started.cookie), &started.callback).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let replayed = finish(&app, Some(&started.cookie), &started.callback).await;
    assert_replay_refused(replayed).await;
    // Erin is the only user: every live session is hers.
    let now = hallpass_core::clock::Clock::now(app.clock.as_ref());
    let live = app
        .state
        .stores
        .sessions
        .count_live_sessions(now, now - time::Duration::days(1))
        .await
        .unwrap();
    assert_eq!(live, 1, "one token session");
}
