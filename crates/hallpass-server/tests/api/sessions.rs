//! Cookie sessions over time and across devices: idle and absolute expiry, activity writes,
//! the device list, revoking one, logging out here, elsewhere or everywhere, the session limit.

use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};
use time::Duration;

use crate::helpers::{Backend, problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn idle_sessions_expire_and_activity_slides_the_window() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let login = app.login("alice").await;
    app.advance(Duration::minutes(110));
    assert_eq!(app.me(&login).await, StatusCode::OK, "activity at 1h50");
    app.advance(Duration::minutes(110));
    assert_eq!(
        app.me(&login).await,
        StatusCode::OK,
        "3h40 after login, 1h50 after the last request"
    );
    app.advance(Duration::minutes(121));
    assert_eq!(
        app.me(&login).await,
        StatusCode::UNAUTHORIZED,
        "idle for more than 2h"
    );
}

#[tokio::test]
async fn sessions_end_at_their_absolute_lifetime_whatever_the_activity() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.session_lifetime = "5h".parse().unwrap()
    })
    .await;
    app.signup("alice").await;
    let login = app.login("alice").await;
    for _ in 0..4 {
        app.advance(Duration::hours(1));
        assert_eq!(app.me(&login).await, StatusCode::OK);
    }
    app.advance(Duration::minutes(59));
    assert_eq!(app.me(&login).await, StatusCode::OK);
    app.advance(Duration::minutes(1));
    assert_eq!(app.me(&login).await, StatusCode::UNAUTHORIZED);
}

/// The stored last-seen time is written at most once a minute, not on every request.
#[tokio::test]
async fn activity_is_written_at_most_once_a_minute() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let login = app.login("alice").await;
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", app.db_path().display()))
        .await
        .unwrap();
    let cache = app.state.node.cache.clone();
    let stored = || async {
        // Activity is written in batches; write the pending batch, as the node does every 5 s.
        cache.flush_touches().await.unwrap();
        sqlx::query_scalar::<_, i64>("SELECT last_seen_at FROM sessions")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let at_login = stored().await;
    for _ in 0..5 {
        app.advance(Duration::seconds(10));
        assert_eq!(app.me(&login).await, StatusCode::OK);
    }
    assert_eq!(stored().await, at_login, "50 s of requests wrote nothing");
    app.advance(Duration::seconds(10));
    assert_eq!(app.me(&login).await, StatusCode::OK);
    let touched = stored().await;
    assert_eq!(touched - at_login, 60_000_000, "written at 60 s");
    app.advance(Duration::seconds(30));
    app.me(&login).await;
    assert_eq!(stored().await, touched);
}

#[tokio::test]
async fn the_device_list_shows_live_sessions_and_marks_the_current_one() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let laptop = app.login("alice").await;
    let phone = app.login("alice").await;
    let gone = app.login("alice").await;
    app.write(Method::POST, "/v1/logout", &gone, None).await;
    let response = app.get_with("/v1/sessions", &laptop.cookie).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let sessions = body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    let current: Vec<_> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["id"], laptop.session_id.as_str());
    let other = sessions.iter().find(|s| s["current"] == false).unwrap();
    assert_eq!(other["id"], phone.session_id.as_str());
    for field in ["created_at", "last_seen_at", "expires_at"] {
        assert!(other[field].is_string(), "{field}");
    }
    assert_eq!(other["kind"], "cookie");
    assert_eq!(other["ip"], "127.0.0.1");
    assert!(
        other["user_agent"]
            .as_str()
            .unwrap()
            .starts_with("hallpass-tests/1.0")
    );
}

#[tokio::test]
async fn one_session_is_revoked_by_id_and_only_by_its_owner() {
    let app = spawn_app().await;
    app.signup("alice").await;
    app.signup("mallory").await;
    let laptop = app.login("alice").await;
    let phone = app.login("alice").await;
    let mallory = app.login("mallory").await;
    let path = format!("/v1/sessions/{}", phone.session_id);
    problem(
        app.write(Method::DELETE, &path, &mallory, None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(app.me(&phone).await, StatusCode::OK);
    problem(
        app.write(Method::DELETE, "/v1/sessions/not-a-uuid", &laptop, None)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let response = app.write(Method::DELETE, &path, &laptop, None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.me(&phone).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.me(&laptop).await, StatusCode::OK);
    problem(
        app.write(Method::DELETE, &path, &laptop, None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn logout_local_ends_this_session_and_clears_the_cookie() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let laptop = app.login("alice").await;
    let phone = app.login("alice").await;
    // No body at all means scope local.
    let response = app.write(Method::POST, "/v1/logout", &laptop, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["clear-site-data"], "\"cookies\"");
    let cleared = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cleared.starts_with("hallpass_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({ "revoked_sessions": 1 }));
    assert_eq!(app.me(&laptop).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.me(&phone).await, StatusCode::OK);
}

#[tokio::test]
async fn logout_others_keeps_only_this_session() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let laptop = app.login("alice").await;
    let phone = app.login("alice").await;
    let tablet = app.login("alice").await;
    let response = app
        .write(
            Method::POST,
            "/v1/logout",
            &laptop,
            Some(json!({ "scope": "others" })),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(!response.headers().contains_key("clear-site-data"));
    assert_eq!(
        response.json::<Value>().await.unwrap()["revoked_sessions"],
        2
    );
    assert_eq!(app.me(&laptop).await, StatusCode::OK);
    assert_eq!(app.me(&phone).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.me(&tablet).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logout_global_ends_every_session() {
    let app = spawn_app().await;
    app.signup("alice").await;
    app.signup("bob").await;
    let laptop = app.login("alice").await;
    let phone = app.login("alice").await;
    let bob = app.login("bob").await;
    let response = app
        .write(
            Method::POST,
            "/v1/logout",
            &laptop,
            Some(json!({ "scope": "global" })),
        )
        .await;
    assert_eq!(
        response.json::<Value>().await.unwrap()["revoked_sessions"],
        2
    );
    assert_eq!(app.me(&laptop).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.me(&phone).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.me(&bob).await, StatusCode::OK);
    let response = app
        .write(
            Method::POST,
            "/v1/logout",
            &bob,
            Some(json!({ "scope": "everything" })),
        )
        .await;
    problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        app.me(&bob).await,
        StatusCode::OK,
        "a rejected logout changes nothing"
    );
}

#[tokio::test]
async fn session_limit_evicts_the_oldest() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.max_sessions_per_user = Some(2)).await;
    app.signup("alice").await;
    let first = app.login("alice").await;
    app.advance(Duration::seconds(1));
    let second = app.login("alice").await;
    app.advance(Duration::seconds(1));
    let third = app.login("alice").await;
    assert_eq!(app.me(&first).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.me(&second).await, StatusCode::OK);
    assert_eq!(app.me(&third).await, StatusCode::OK);
}

#[tokio::test]
async fn session_limit_can_reject_new_logins_instead() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.max_sessions_per_user = Some(1);
        s.session_limit_policy = hallpass_server::config::SessionLimitPolicy::RejectNew;
    })
    .await;
    app.signup("alice").await;
    let first = app.login("alice").await;
    let refused = app.try_login("alice", crate::helpers::PASSWORD).await;
    assert!(crate::helpers::session_cookie(&refused).is_none());
    problem(refused, StatusCode::CONFLICT, "session_limit_reached").await;
    assert_eq!(app.me(&first).await, StatusCode::OK);
    app.write(Method::POST, "/v1/logout", &first, None).await;
    app.login("alice").await;
}

/// Two servers on one database, as two nodes would be. A revocation made through one node is
/// seen by the other once its cached copy is older than `session_cache_ttl` (until the
/// revocation bus carries it at once); through the node itself it is immediate.
#[tokio::test]
async fn another_nodes_revocation_is_seen_within_the_cache_ttl() {
    let node_a = spawn_app().await;
    let node_b = node_a.another_node().await;
    node_a.signup("alice").await;
    let login = node_a.login("alice").await;
    assert_eq!(
        node_a.me(&login).await,
        StatusCode::OK,
        "node A caches the session"
    );
    assert_eq!(node_b.me(&login).await, StatusCode::OK);
    let response = node_b.write(Method::POST, "/v1/logout", &login, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        node_b.me(&login).await,
        StatusCode::UNAUTHORIZED,
        "at once on the node that revoked"
    );
    node_a.advance(Duration::seconds(5));
    assert_eq!(
        node_a.me(&login).await,
        StatusCode::UNAUTHORIZED,
        "within the TTL on the other node"
    );
}

/// Activity is written in batches off the request path: the requests write nothing, the next
/// flush writes every session's latest activity at once.
#[tokio::test]
async fn activity_is_written_in_batches() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let (laptop, phone) = (app.login("alice").await, app.login("alice").await);
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", app.db_path().display()))
        .await
        .unwrap();
    let stored = || async {
        sqlx::query_scalar::<_, i64>("SELECT max(last_seen_at) FROM sessions")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let before = stored().await;
    app.advance(Duration::seconds(61));
    assert_eq!(app.me(&laptop).await, StatusCode::OK);
    assert_eq!(app.me(&phone).await, StatusCode::OK);
    assert_eq!(stored().await, before, "the requests wrote nothing");
    assert_eq!(
        app.state.node.cache.flush_touches().await.unwrap(),
        2,
        "one batch for both sessions"
    );
    assert_eq!(stored().await - before, 61_000_000);
    assert_eq!(
        app.state.node.cache.flush_touches().await.unwrap(),
        0,
        "nothing twice"
    );
}
