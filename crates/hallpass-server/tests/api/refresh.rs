//! The refresh state machine of docs/design.md §1, one test per transition, on every backend.

use reqwest::StatusCode;
use serde_json::Value;
use time::Duration;

use crate::helpers::{
    Backend, TestApp, oauth_error, postgres_available, spawn_app_with, tokens_from,
};

async fn apps() -> Vec<TestApp> {
    let mut apps = vec![spawn_app_with(Backend::Sqlite, |_| {}).await];
    if postgres_available() {
        apps.push(spawn_app_with(Backend::Postgres, |_| {}).await);
    }
    apps
}

async fn audit_kinds(app: &TestApp) -> Vec<String> {
    let records = app
        .state
        .stores
        .audit
        .list_audit(&hallpass_store::AuditQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    records
        .into_iter()
        .map(|r| r.event.kind.as_str().to_owned())
        .collect()
}

#[tokio::test]
async fn the_current_generation_rotates_to_a_new_token() {
    for app in apps().await {
        app.signup("alice").await;
        let first = app.tokens("alice").await;
        let response = app.refresh(&first.refresh).await;
        assert_eq!(response.status(), StatusCode::OK);
        let second = tokens_from(response).await;
        assert_ne!(second.refresh, first.refresh);
        assert_ne!(second.access, first.access);
        assert_eq!(app.bearer_me(&second.access).await, StatusCode::OK);
        let third = tokens_from(app.refresh(&second.refresh).await).await;
        assert_ne!(third.refresh, second.refresh);
    }
}

#[tokio::test]
async fn a_replay_inside_the_grace_window_gets_the_same_successor_and_changes_nothing() {
    for app in apps().await {
        app.signup("alice").await;
        let first = app.tokens("alice").await;
        let second = tokens_from(app.refresh(&first.refresh).await).await;
        app.advance(Duration::seconds(9));
        let replay = app.refresh(&first.refresh).await;
        assert_eq!(replay.status(), StatusCode::OK);
        let again = tokens_from(replay).await;
        assert_eq!(
            again.refresh, second.refresh,
            "the same successor, not a fork"
        );
        assert_eq!(app.bearer_me(&again.access).await, StatusCode::OK);
        // The window is measured from the rotation: replays do not extend it.
        app.advance(Duration::seconds(2));
        oauth_error(
            app.refresh(&first.refresh).await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        )
        .await;
    }
}

#[tokio::test]
async fn an_old_generation_after_the_window_is_theft_and_ends_the_session() {
    for app in apps().await {
        app.signup("alice").await;
        let first = app.tokens("alice").await;
        let second = tokens_from(app.refresh(&first.refresh).await).await;
        app.advance(Duration::seconds(10));
        let body = oauth_error(
            app.refresh(&first.refresh).await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        )
        .await;
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .contains("already used")
        );
        assert_eq!(
            app.bearer_me(&second.access).await,
            StatusCode::UNAUTHORIZED,
            "the session is revoked"
        );
        oauth_error(
            app.refresh(&second.refresh).await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        )
        .await;
        assert!(
            audit_kinds(&app)
                .await
                .contains(&"refresh_reuse_detected".to_owned())
        );
    }
}

#[tokio::test]
async fn two_generations_back_is_theft_even_inside_the_window() {
    for app in apps().await {
        app.signup("alice").await;
        let first = app.tokens("alice").await;
        let second = tokens_from(app.refresh(&first.refresh).await).await;
        let third = tokens_from(app.refresh(&second.refresh).await).await;
        oauth_error(
            app.refresh(&first.refresh).await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        )
        .await;
        oauth_error(
            app.refresh(&third.refresh).await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        )
        .await;
    }
}

#[tokio::test]
async fn a_bad_mac_an_unknown_session_or_an_expired_family_changes_nothing() {
    for app in apps().await {
        app.signup("alice").await;
        let tokens = app.tokens("alice").await;
        // Flip one character of the MAC.
        let mut forged = tokens.refresh.clone().into_bytes();
        let last = forged.len() - 2;
        forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
        let forged = String::from_utf8(forged).unwrap();
        oauth_error(
            app.refresh(&forged).await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        )
        .await;
        assert_eq!(
            app.refresh(&tokens.refresh).await.status(),
            StatusCode::OK,
            "the real token still works"
        );
        oauth_error(
            app.refresh("hp_rt_AAAA").await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        )
        .await;
        let other = app.tokens("alice").await;
        app.advance(Duration::days(30));
        oauth_error(
            app.refresh(&other.refresh).await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        )
        .await;
        assert!(
            !audit_kinds(&app)
                .await
                .contains(&"refresh_reuse_detected".to_owned())
        );
    }
}

/// Fifty tabs refreshing the same token at once: every one succeeds with the same successor;
/// no fork, no logout.
#[tokio::test]
async fn fifty_concurrent_refreshes_of_one_token_all_get_the_same_successor() {
    for app in apps().await {
        app.signup("alice").await;
        let tokens = app.tokens("alice").await;
        let mut tabs = tokio::task::JoinSet::new();
        for _ in 0..50 {
            let request = app
                .client
                .post(app.url("/v1/token"))
                .json(&serde_json::json!({
                    "grant_type": "refresh_token",
                    "refresh_token": tokens.refresh,
                }));
            tabs.spawn(async move { request.send().await.unwrap() });
        }
        let mut successors = std::collections::HashSet::new();
        while let Some(response) = tabs.join_next().await {
            let response = response.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let body: Value = response.json().await.unwrap();
            successors.insert(body["refresh_token"].as_str().unwrap().to_owned());
        }
        assert_eq!(successors.len(), 1, "one successor for everyone");
        let successor = successors.into_iter().next().unwrap();
        let next = app.refresh(&successor).await;
        assert_eq!(next.status(), StatusCode::OK, "the family lives on");
        assert!(
            !audit_kinds(&app)
                .await
                .contains(&"refresh_reuse_detected".to_owned())
        );
    }
}
