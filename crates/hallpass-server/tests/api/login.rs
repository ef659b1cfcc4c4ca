use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{
    Backend, PASSWORD, problem, session_cookie, spawn_app, spawn_app_with, start,
};

#[tokio::test]
async fn login_sets_an_httponly_session_cookie_and_returns_the_csrf_token() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let response = app.try_login("ALICE", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let set_cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    let value = set_cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("hallpass_session=");
    assert!(
        value.starts_with("hp_st_") && value.len() == 6 + 43,
        "{set_cookie}"
    );
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set_cookie.contains(flag), "{set_cookie}");
    }
    assert!(
        !set_cookie.contains("Secure"),
        "plain http public URL: {set_cookie}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["username"], "alice");
    assert_eq!(body["session"]["kind"], "cookie");
    assert_eq!(body["session"]["current"], true);
    assert!(body["csrf_token"].as_str().unwrap().len() >= 43);
}

#[tokio::test]
async fn https_deployments_get_host_prefixed_secure_cookies() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.public_url = "https://auth.example".to_owned()
    })
    .await;
    app.signup("alice").await;
    let response = app.try_login("alice", PASSWORD).await;
    let set_cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        set_cookie.starts_with("__Host-hallpass_session=hp_st_"),
        "{set_cookie}"
    );
    assert!(
        set_cookie.contains("Secure")
            && set_cookie.contains("Path=/")
            && !set_cookie.contains("Domain")
    );
    // The unprefixed name is not read under https.
    let token = set_cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("__Host-hallpass_session=");
    let plain = app
        .get_with("/v1/me", &format!("hallpass_session={token}"))
        .await;
    assert_eq!(plain.status(), StatusCode::UNAUTHORIZED);
    let prefixed = app
        .get_with("/v1/me", &format!("__Host-hallpass_session={token}"))
        .await;
    assert_eq!(prefixed.status(), StatusCode::OK);
}

/// The answer must not tell an attacker whether the username exists.
#[tokio::test]
async fn unknown_user_and_wrong_password_get_identical_answers() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let wrong_password = app.try_login("alice", "not the password at all").await;
    let unknown_user = app.try_login("nobody", "not the password at all").await;
    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_password.status(), unknown_user.status());
    let strip = |r: &reqwest::Response| {
        let mut headers: Vec<(String, String)> = r
            .headers()
            .iter()
            .filter(|(name, _)| !matches!(name.as_str(), "date" | "x-request-id"))
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
            .collect();
        headers.sort();
        headers
    };
    assert_eq!(strip(&wrong_password), strip(&unknown_user));
    let a = wrong_password.text().await.unwrap();
    let b = unknown_user.text().await.unwrap();
    assert_eq!(a, b);
    assert!(a.contains("invalid_credentials"));
    // A malformed username is just another unknown user.
    let malformed = app.try_login("no such user!", "whatever").await;
    assert_eq!(malformed.text().await.unwrap(), a);
}

#[tokio::test]
async fn every_login_gets_a_fresh_token_and_a_presented_one_is_replaced() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let first = app.login("alice").await;
    // An attacker-chosen value planted in the victim's browser is never a session.
    let planted = "hallpass_session=hp_st_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert_eq!(
        app.get_with("/v1/me", planted).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let response = app
        .client
        .post(app.url("/v1/login"))
        .header(header::COOKIE, &first.cookie)
        .json(&json!({ "username": "alice", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let second = session_cookie(&response).unwrap();
    assert_ne!(second, first.cookie);
    assert_eq!(
        app.get_with("/v1/me", &second).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.me(&first).await,
        StatusCode::UNAUTHORIZED,
        "the presented session was replaced"
    );
}

#[tokio::test]
async fn the_database_never_holds_a_session_token() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let login = app.login("alice").await;
    let raw = base64_decode(login.token.trim_start_matches("hp_st_"));
    for file in ["hallpass.db", "hallpass.db-wal"] {
        let path = app.dir.path().join(file);
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        assert!(
            !contains(&bytes, login.token.as_bytes()),
            "{file} holds the token"
        );
        assert!(
            !contains(&bytes, login.token.trim_start_matches("hp_st_").as_bytes()),
            "{file} holds the token body"
        );
        assert!(!contains(&bytes, &raw), "{file} holds the token bytes");
    }
    // What is stored is SHA-256 of the token.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", app.db_path().display()))
        .await
        .unwrap();
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM sessions")
        .fetch_one(&pool)
        .await
        .unwrap();
    use sha2::Digest;
    assert_eq!(
        stored,
        sha2::Sha256::digest(login.token.as_bytes()).to_vec()
    );
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_disabled_user_cannot_log_in_and_gets_the_usual_answer() {
    let app = spawn_app().await;
    let user = app.signup("alice").await;
    let id = hallpass_core::user::UserId(user["user"]["id"].as_str().unwrap().parse().unwrap());
    let update = hallpass_store::UserUpdate {
        roles: None,
        disabled: Some(true),
    };
    app.state
        .stores
        .users
        .update_user(id, &update, hallpass_core::clock::Clock::now(&*app.clock))
        .await
        .unwrap();
    let response = app.try_login("alice", PASSWORD).await;
    problem(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

#[tokio::test]
async fn hashes_are_upgraded_on_login_when_the_parameters_change() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let stored = |app: &crate::helpers::TestApp| {
        let users = app.state.stores.users.clone();
        async move {
            let name = hallpass_core::user::Username::parse("alice").unwrap();
            users
                .user_by_username(&name)
                .await
                .unwrap()
                .unwrap()
                .password_hash
                .as_phc()
                .to_owned()
        }
    };
    let before = stored(&app).await;
    assert!(before.contains("m=256,t=1,p=1"), "{before}");
    // Restart on the same database with a higher cost.
    let mut settings = app.settings.clone();
    settings.argon2.m_cost = 512;
    settings.argon2.t_cost = 2;
    let restarted = start(settings, app.clock.clone(), app.dir).await;
    assert_eq!(
        restarted.try_login("alice", PASSWORD).await.status(),
        StatusCode::OK
    );
    let after = stored(&restarted).await;
    assert!(after.contains("m=512,t=2,p=1"), "{after}");
    // And the upgraded hash still verifies.
    assert_eq!(
        restarted.try_login("alice", PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn too_many_attempts_from_one_address_are_refused() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.rate_limit.per_ip_per_minute = 3).await;
    app.signup("alice").await;
    app.login("alice").await;
    app.try_login("alice", "wrong wrong wrong").await;
    let response = app.try_login("alice", PASSWORD).await;
    assert!(
        response.headers()[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    problem(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

#[tokio::test]
async fn an_account_locks_after_five_failures_even_against_the_right_password() {
    let app = spawn_app().await;
    app.signup("alice").await;
    for _ in 0..5 {
        assert_eq!(
            app.try_login("alice", "wrong wrong wrong").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let locked = app.try_login("alice", PASSWORD).await;
    assert_eq!(locked.headers()[header::RETRY_AFTER], "30");
    problem(locked, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Unknown accounts lock the same way, so the lockout reveals nothing either.
    for _ in 0..5 {
        app.try_login("nobody", "wrong wrong wrong").await;
    }
    assert_eq!(
        app.try_login("nobody", "x").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    app.advance(time::Duration::seconds(31));
    assert_eq!(
        app.try_login("alice", PASSWORD).await.status(),
        StatusCode::OK
    );
    // Success resets the count.
    assert_eq!(
        app.try_login("alice", "wrong wrong wrong").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.try_login("alice", PASSWORD).await.status(),
        StatusCode::OK
    );
}

/// With one hashing thread and one queue slot, a burst of logins is answered 503 +
/// Retry-After for what does not fit, instead of queueing without bound.
#[tokio::test]
async fn a_full_hashing_queue_answers_503() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.argon2.m_cost = 32_768;
        s.argon2.t_cost = 3;
        s.password_hash_threads = Some(1);
        s.password_hash_queue = 1;
    })
    .await;
    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let request = app
            .client
            .post(app.url("/v1/login"))
            .json(&json!({ "username": "nobody", "password": "some password here" }));
        burst.spawn(async move { request.send().await.unwrap() });
    }
    let mut responses = Vec::new();
    while let Some(response) = burst.join_next().await {
        responses.push(response.unwrap());
    }
    let overloaded: Vec<_> = responses
        .iter()
        .filter(|r| r.status() == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(
        !overloaded.is_empty(),
        "statuses: {:?}",
        responses.iter().map(|r| r.status()).collect::<Vec<_>>()
    );
    for response in overloaded {
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    }
    assert!(
        responses
            .iter()
            .any(|r| r.status() == StatusCode::UNAUTHORIZED),
        "some were served"
    );
}
