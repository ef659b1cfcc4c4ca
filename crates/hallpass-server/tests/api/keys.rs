//! Signing keys: pre-published rotation, retirement, the CLI, and a node with the wrong secret.

use std::process::Command;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hallpass_core::clock::Clock;
use reqwest::StatusCode;
use serde_json::Value;
use time::Duration;

use crate::helpers::{TestApp, spawn_app};

fn kid(token: &str) -> String {
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

async fn published(app: &TestApp) -> Vec<String> {
    let jwks: Value = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_new_key_is_published_an_hour_before_it_signs_and_the_old_one_retires_after_its_tokens() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let ring = &app.state.tokens.keyring;
    let old = kid(&app.tokens("alice").await.access);
    assert!(
        !ring.rotate_if_due(app.clock.now()).await.unwrap(),
        "a fresh key is not due"
    );
    let new = ring.rotate(app.clock.now()).await.unwrap();
    let mut both = published(&app).await;
    both.sort();
    let mut expected = vec![old.clone(), new.clone()];
    expected.sort();
    assert_eq!(both, expected, "published at once");
    app.advance(Duration::minutes(59));
    let before_switch = app.tokens("alice").await;
    assert_eq!(
        kid(&before_switch.access),
        old,
        "the old key signs until the new one activates"
    );
    app.advance(Duration::minutes(1));
    ring.reload(app.clock.now()).await.unwrap();
    let after_switch = app.tokens("alice").await;
    assert_eq!(kid(&after_switch.access), new);
    assert_eq!(
        app.bearer_me(&before_switch.access).await,
        StatusCode::OK,
        "old tokens verify until they expire"
    );
    app.advance(Duration::minutes(15) + Duration::seconds(31));
    ring.reload(app.clock.now()).await.unwrap();
    assert_eq!(
        published(&app).await,
        vec![new.clone()],
        "retired once its last token expired"
    );
    // Thirty days on, rotation is due again.
    app.advance(Duration::days(30));
    assert!(ring.rotate_if_due(app.clock.now()).await.unwrap());
    assert_eq!(published(&app).await.len(), 2);
}

#[tokio::test]
async fn a_node_whose_secret_cannot_open_the_keys_refuses_to_start() {
    let app = spawn_app().await;
    let key_file = app.settings.secret_key_path();
    std::fs::write(&key_file, "11".repeat(32)).unwrap();
    let Err(error) =
        hallpass_server::startup::Application::build(&app.settings, app.clock.clone()).await
    else {
        panic!("started with the wrong secret");
    };
    let message = format!("{error:#}");
    assert!(
        message.contains("cannot be decrypted") && message.contains("secret_key_file"),
        "{message}"
    );
}

fn hallpass(app: &TestApp, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .args(args)
        .args([
            "--database-url",
            &app.settings.database_url,
            "--public-url",
            crate::helpers::PUBLIC_URL,
        ])
        .output()
        .unwrap()
}

#[tokio::test]
async fn the_keys_and_token_commands() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let tokens = app.tokens("alice").await;
    let old = kid(&tokens.access);
    let list = hallpass(&app, &["keys", "list"]);
    assert!(
        list.status.success(),
        "{}",
        String::from_utf8_lossy(&list.stderr)
    );
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with(&old) && l.contains("signing")),
        "{text}"
    );

    let rotate = hallpass(&app, &["keys", "rotate"]);
    assert!(
        rotate.status.success(),
        "{}",
        String::from_utf8_lossy(&rotate.stderr)
    );
    app.state
        .tokens
        .keyring
        .reload(app.clock.now())
        .await
        .unwrap();
    assert_eq!(
        published(&app).await.len(),
        2,
        "the running node sees the key rotated from the CLI"
    );
    let text = String::from_utf8_lossy(&hallpass(&app, &["keys", "list"]).stdout).to_string();
    assert!(text.contains("next"), "{text}");

    let inspect = hallpass(&app, &["token", "inspect", &tokens.access]);
    let out = String::from_utf8_lossy(&inspect.stdout);
    assert!(
        inspect.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&inspect.stderr)
    );
    assert!(
        out.contains("\"typ\":\"at+jwt\"") && out.contains("valid"),
        "{out}"
    );
    let tampered = tokens.access.replacen('.', ".e30", 1);
    let inspect = hallpass(&app, &["token", "inspect", &tampered]);
    assert!(!inspect.status.success());
    assert!(String::from_utf8_lossy(&inspect.stderr).contains("invalid"));
    // Against a JWKS file, with no database involved.
    let jwks = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let file = app.dir.path().join("jwks.json");
    std::fs::write(&file, jwks).unwrap();
    let inspect = hallpass(
        &app,
        &[
            "token",
            "inspect",
            &tokens.access,
            "--jwks",
            file.to_str().unwrap(),
        ],
    );
    assert!(
        inspect.status.success(),
        "{}",
        String::from_utf8_lossy(&inspect.stderr)
    );
}

#[tokio::test]
async fn rs256_keys_are_published_and_hs256_keys_are_not() {
    use crate::helpers::{Backend, spawn_app_with};
    let rsa = spawn_app_with(Backend::Sqlite, |s| s.signing_alg = "RS256".to_owned()).await;
    rsa.signup("alice").await;
    let tokens = rsa.tokens("alice").await;
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(tokens.access.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "RS256");
    let jwks: Value = rsa
        .client
        .get(rsa.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kty"], "RSA");
    assert!(jwks["keys"][0]["n"].is_string() && jwks["keys"][0].get("d").is_none());
    assert_eq!(rsa.bearer_me(&tokens.access).await, StatusCode::OK);

    let hmac = spawn_app_with(Backend::Sqlite, |s| s.signing_alg = "HS256".to_owned()).await;
    hmac.signup("alice").await;
    let tokens = hmac.tokens("alice").await;
    assert_eq!(hmac.bearer_me(&tokens.access).await, StatusCode::OK);
    let jwks = hmac
        .client
        .get(hmac.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        jwks.status(),
        StatusCode::NOT_FOUND,
        "HS256 runs with the JWKS off"
    );
    let metadata: Value = hmac
        .client
        .get(hmac.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(metadata.get("jwks_uri").is_none());
    assert_eq!(
        metadata["access_token_signing_alg_values_supported"],
        serde_json::json!(["HS256"])
    );
    // The shared secret is never in the database in clear, nor anywhere public.
    let stored = hmac
        .state
        .stores
        .keys
        .signing_keys(hmac.clock.now())
        .await
        .unwrap();
    assert!(!stored[0].public_jwk.contains("\"k\""));
}
