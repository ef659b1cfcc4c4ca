//! The revocation feed as an offline verifier uses it (docs/revocation-feed.md): after each
//! change that makes an issued token say something false, a verifier applying the documented
//! rule to a fresh read of the feed refuses the tokens issued before it. Every test runs on
//! SQLite and on PostgreSQL.

mod cursor;
mod verifier;

use reqwest::{Method, StatusCode};
use serde_json::json;
use time::Duration;

use crate::helpers::{Backend, PASSWORD, TestApp, postgres_available, spawn_app_with, tokens_from};
use verifier::Feed;

/// Runs `test` on SQLite, and on PostgreSQL when it is configured.
macro_rules! on_both_backends {
    ($sqlite:ident, $postgres:ident, $test:ident) => {
        #[tokio::test]
        async fn $sqlite() {
            $test(spawn_app_with(Backend::Sqlite, |_| {}).await).await;
        }

        #[tokio::test]
        async fn $postgres() {
            if postgres_available() {
                $test(spawn_app_with(Backend::Postgres, |_| {}).await).await;
            }
        }
    };
}

fn user_id(signup: &serde_json::Value) -> String {
    signup["user"]["id"].as_str().unwrap().to_owned()
}

async fn deleting_a_user_refuses_their_tokens(app: TestApp) {
    let root = app.admin("root").await;
    let alice = user_id(&app.signup("alice").await);
    let before = app.tokens("alice").await;
    assert!(!Feed::read(&app).await.refuses(&before.access, &app));
    let deleted = app
        .write(
            Method::DELETE,
            &format!("/v1/admin/users/{alice}"),
            &root,
            None,
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert!(
        Feed::read(&app).await.refuses(&before.access, &app),
        "a deleted user's token is in the feed at once"
    );
}
on_both_backends!(
    deleting_a_user_refuses_their_tokens_on_sqlite,
    deleting_a_user_refuses_their_tokens_on_postgres,
    deleting_a_user_refuses_their_tokens
);

async fn disabling_a_user_refuses_their_tokens(app: TestApp) {
    let root = app.admin("root").await;
    let alice = user_id(&app.signup("alice").await);
    let before = app.tokens("alice").await;
    assert!(!Feed::read(&app).await.refuses(&before.access, &app));
    let disabled = app
        .write(
            Method::PATCH,
            &format!("/v1/admin/users/{alice}"),
            &root,
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(disabled.status(), StatusCode::OK);
    let feed = Feed::read(&app).await;
    assert!(feed.refuses(&before.access, &app));
    assert!(
        feed.names_user(&alice),
        "disabling marks the user, not only their sessions"
    );
}
on_both_backends!(
    disabling_a_user_refuses_their_tokens_on_sqlite,
    disabling_a_user_refuses_their_tokens_on_postgres,
    disabling_a_user_refuses_their_tokens
);

/// A demotion keeps the sessions: tokens minted before it (in the same second too: the clock
/// does not move between the token and the change) are refused, a refresh afterwards is not.
async fn demoting_an_admin_refuses_tokens_issued_before_it(app: TestApp) {
    let root = app.admin("root").await;
    let bob = app.signup("bob").await;
    let bob_id = user_id(&bob);
    let promoted = app
        .write(
            Method::PATCH,
            &format!("/v1/admin/users/{bob_id}"),
            &root,
            Some(json!({ "roles": ["admin"] })),
        )
        .await;
    assert_eq!(promoted.status(), StatusCode::OK);
    // Past the second of the promotion, which refuses bob's tokens minted in it.
    app.advance(Duration::seconds(1));
    let before = app.tokens("bob").await;
    assert_eq!(verifier::claims(&before.access)["roles"], json!(["admin"]));
    assert!(!Feed::read(&app).await.refuses(&before.access, &app));
    let demoted = app
        .write(
            Method::PATCH,
            &format!("/v1/admin/users/{bob_id}"),
            &root,
            Some(json!({ "roles": [] })),
        )
        .await;
    assert_eq!(demoted.status(), StatusCode::OK);
    assert!(
        Feed::read(&app).await.refuses(&before.access, &app),
        "a token still saying admin is refused"
    );
    app.advance(Duration::seconds(1));
    let refreshed = tokens_from(app.refresh(&before.refresh).await).await;
    let claims = verifier::claims(&refreshed.access);
    assert_eq!(claims["roles"], json!([]));
    assert_eq!(
        claims["sid"],
        verifier::claims(&before.access)["sid"],
        "same session"
    );
    assert!(
        !Feed::read(&app).await.refuses(&refreshed.access, &app),
        "a token minted after the change says the truth and is accepted"
    );
}
on_both_backends!(
    demoting_an_admin_refuses_tokens_issued_before_it_on_sqlite,
    demoting_an_admin_refuses_tokens_issued_before_it_on_postgres,
    demoting_an_admin_refuses_tokens_issued_before_it
);

/// A password change ends every other session, and the feed carries each; the session that
/// changed it lives on, at hallpass and at the verifier alike.
async fn changing_the_password_refuses_the_other_sessions_tokens(app: TestApp) {
    app.signup("alice").await;
    let other = app.tokens("alice").await;
    let changer = app.tokens("alice").await;
    let changed = app
        .client
        .post(app.url("/v1/password"))
        .bearer_auth(&changer.access)
        .json(&json!({ "current_password": PASSWORD, "new_password": "a brand new passphrase" }))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    let feed = Feed::read(&app).await;
    assert!(feed.refuses(&other.access, &app));
    assert!(!feed.refuses(&changer.access, &app));
    assert_eq!(app.bearer_me(&changer.access).await, StatusCode::OK);
}
on_both_backends!(
    changing_the_password_refuses_the_other_sessions_tokens_on_sqlite,
    changing_the_password_refuses_the_other_sessions_tokens_on_postgres,
    changing_the_password_refuses_the_other_sessions_tokens
);
