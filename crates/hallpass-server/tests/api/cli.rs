//! The `hallpass` binary's subcommands, run as a user would.

use std::{
    io::Write,
    process::{Command, Output, Stdio},
};

use serde_json::Value;

use crate::helpers::{Backend, spawn_app_with};

fn hallpass(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .args(args)
        .env("HALLPASS_ARGON2_M_COST", "256")
        .env("HALLPASS_ARGON2_T_COST", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn user_create_makes_an_admin_who_can_log_in() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("hallpass.db").display());
    let out = hallpass(
        &[
            "user",
            "create",
            "root",
            "--role",
            "admin",
            "--database-url",
            &db,
        ],
        "violet anchor trombone seven\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created user root"));

    let app = spawn_app_with(Backend::Sqlite, |s| s.database_url = db.clone()).await;
    let login = app.login("root").await;
    assert_eq!(login.body["user"]["roles"], serde_json::json!(["admin"]));
    let users: Value = app
        .get_with("/v1/admin/users", &login.cookie)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(users["users"][0]["username"], "root");

    let again = hallpass(
        &["user", "create", "ROOT", "--database-url", &db],
        "violet anchor trombone seven\n",
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("taken"));
}

#[test]
fn user_create_refuses_weak_or_missing_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("hallpass.db").display());
    let weak = hallpass(
        &["user", "create", "bob", "--database-url", &db],
        "password\n",
    );
    assert!(!weak.status.success());
    assert!(
        String::from_utf8_lossy(&weak.stderr).contains("password"),
        "{}",
        String::from_utf8_lossy(&weak.stderr)
    );
    let empty = hallpass(&["user", "create", "bob", "--database-url", &db], "");
    assert!(!empty.status.success());
}

#[test]
fn migrate_and_config_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("fresh.db").display());
    let out = hallpass(&["migrate", "--database-url", &db], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("fresh.db").exists());

    let config = dir.path().join("hallpass.toml");
    std::fs::write(&config, "session_lifetime = \"forever\"\n").unwrap();
    let out = hallpass(&["serve", "--config", config.to_str().unwrap()], "");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("session_lifetime") && stderr.contains("forever"),
        "{stderr}"
    );
}

#[test]
fn the_server_refuses_an_unreadable_secret_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hallpass.key"), "not a key").unwrap();
    let db = format!("sqlite://{}", dir.path().join("hallpass.db").display());
    let out = hallpass(
        &["serve", "--database-url", &db, "--listen", "127.0.0.1:0"],
        "",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("secret key"));
}

#[tokio::test]
async fn user_remove_factors_lets_a_user_who_lost_them_sign_in_with_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("hallpass.db").display());
    let app = spawn_app_with(Backend::Sqlite, |s| s.database_url = db.clone()).await;
    app.signup("root").await;
    let root = app.login("root").await;
    crate::factors::enroll(&app, &root).await;
    crate::factors::first_step(&app, "root").await;

    let out = hallpass(
        &["user", "remove-factors", "root", "--database-url", &db],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("removed 1 factor(s) of root"));
    assert_eq!(
        app.try_login("root", crate::helpers::PASSWORD)
            .await
            .status(),
        reqwest::StatusCode::OK
    );
    let unknown = hallpass(
        &["user", "remove-factors", "nobody", "--database-url", &db],
        "",
    );
    assert!(!unknown.status.success());
}
