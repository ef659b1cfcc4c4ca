//! SQLite on a filesystem that fills up: writes are refused with 503 (never 500), readiness
//! says so, and once space is free again logins work within a second — no pooled connection
//! is left inside a failed transaction.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use super::{SmallDisk, faults_enabled};
use crate::helpers::{Backend, PASSWORD, problem, spawn_app_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_recover_after_a_full_disk() {
    if !faults_enabled() {
        return;
    }
    let disk = SmallDisk::mount("8m");
    let database = format!("sqlite://{}", disk.path().join("hallpass.db").display());
    let app = spawn_app_with(Backend::Sqlite, |s| s.database_url = database).await;
    app.signup("alice").await;
    app.login("alice").await;

    let ballast = disk.fill();
    let mut refused = 0;
    for i in 0..20 {
        let response = app
            .post_json(
                "/v1/signup",
                json!({ "username": format!("filler{i}"), "password": PASSWORD }),
            )
            .await;
        let status = response.status();
        assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "signup {i}");
        if status == StatusCode::SERVICE_UNAVAILABLE {
            problem(response, status, "store_unavailable").await;
            refused += 1;
        }
    }
    assert!(refused > 0, "a full disk refused no signup");
    let login = app.try_login("alice", PASSWORD).await;
    problem(login, StatusCode::SERVICE_UNAVAILABLE, "store_unavailable").await;
    let grant = app
        .token_request(
            json!({ "grant_type": "password", "username": "alice", "password": PASSWORD }),
        )
        .await;
    assert_eq!(grant.status(), StatusCode::SERVICE_UNAVAILABLE);
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(
        ready.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "readiness sees failing writes"
    );

    // Writes that fail at different points (the statement, the COMMIT, growing the WAL): free a
    // little space at a time, so some transactions get past their statements and fail later.
    let full = std::fs::metadata(&ballast).unwrap().len();
    for slack in [2_u64, 4, 6, 8, 12, 16, 24, 32, 48, 64] {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&ballast)
            .unwrap();
        file.set_len(full.saturating_sub(slack * 1024)).unwrap();
        for _ in 0..3 {
            let status = app.try_login("alice", PASSWORD).await.status();
            assert_ne!(
                status,
                StatusCode::INTERNAL_SERVER_ERROR,
                "login with {slack} KiB free"
            );
            let grant = app
                .token_request(
                    json!({ "grant_type": "password", "username": "alice", "password": PASSWORD }),
                )
                .await;
            assert_ne!(
                grant.status(),
                StatusCode::INTERNAL_SERVER_ERROR,
                "grant with {slack} KiB free"
            );
        }
        drop(file);
        disk.fill_more(&ballast);
    }

    std::fs::remove_file(ballast).unwrap();
    let freed = Instant::now();
    loop {
        let status = app.try_login("alice", PASSWORD).await.status();
        if status == StatusCode::OK {
            break;
        }
        assert!(
            freed.elapsed() < Duration::from_secs(1),
            "login still {status} after 1 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Every pooled connection works again: more logins than the pool has connections, and the
    // transactions that failed on the full disk (session creation, password grant) included.
    for i in 0..12 {
        assert_eq!(
            app.try_login("alice", PASSWORD).await.status(),
            StatusCode::OK,
            "login {i}"
        );
        let grant = app
            .token_request(
                json!({ "grant_type": "password", "username": "alice", "password": PASSWORD }),
            )
            .await;
        assert_eq!(grant.status(), StatusCode::OK, "password grant {i}");
    }
    let signup = app
        .post_json(
            "/v1/signup",
            json!({ "username": "carol", "password": PASSWORD }),
        )
        .await;
    assert_eq!(signup.status(), StatusCode::CREATED);
}
