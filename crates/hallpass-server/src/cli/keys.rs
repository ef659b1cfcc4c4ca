//! `hallpass keys list|rotate` and `hallpass token inspect`.

use std::path::Path;

use anyhow::Context;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hallpass_core::{
    clock::{Clock, SystemClock},
    token::{Verifier, VerifyingKey},
};
use hallpass_store::Stores;
use serde_json::Value;

use crate::{config::Settings, infra::secret_key, startup::key_policy, tokens::keyring::KeyRing};

/// Prints every key not yet retired.
pub(super) async fn list(settings: &Settings) -> anyhow::Result<()> {
    let stores = Stores::open(&settings.database_url, &settings.store_options()).await?;
    let now = SystemClock.now();
    let keys = stores.keys.signing_keys(now).await?;
    let signing = keys
        .iter()
        .filter(|k| k.activates_at <= now)
        .map(|k| k.kid.clone())
        .next_back();
    println!(
        "{:<24} {:<6} {:<10} {:<27} {:<27}",
        "kid", "alg", "state", "signs from", "retires"
    );
    for key in &keys {
        let state = if Some(&key.kid) == signing.as_ref() {
            "signing"
        } else if key.activates_at > now {
            "next"
        } else {
            "published"
        };
        let retires = key
            .retires_at
            .map_or_else(|| "-".to_owned(), |t| t.to_string());
        println!(
            "{:<24} {:<6} {:<10} {:<27} {:<27}",
            key.kid,
            key.alg,
            state,
            key.activates_at.to_string(),
            retires
        );
    }
    Ok(())
}

/// Makes a new key (published now, signing an hour from now) and schedules the retirement of
/// the older ones. Running nodes pick it up within a minute.
pub(super) async fn rotate(settings: &Settings) -> anyhow::Result<()> {
    let stores = Stores::open(&settings.database_url, &settings.store_options()).await?;
    let secret = secret_key::load_or_generate(&settings.secret_key_path())?;
    let now = SystemClock.now();
    let ring = KeyRing::start(
        stores,
        secret.derive("hallpass/signing-keys/v1"),
        key_policy(settings)?,
        now,
    )
    .await?;
    let kid = ring.rotate(now).await?;
    println!(
        "new signing key {kid}: published now, signs from {}",
        now + crate::tokens::keyring::PREPUBLISH
    );
    Ok(())
}

/// Decodes a token and verifies it against the public keys (from the database, or a JWKS file).
pub(super) async fn inspect(
    settings: &Settings,
    token: &str,
    jwks: Option<&Path>,
) -> anyhow::Result<()> {
    let now = SystemClock.now();
    let public: Vec<Value> = match jwks {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let set: Value = serde_json::from_str(&text).context("the JWKS is not JSON")?;
            set["keys"].as_array().cloned().unwrap_or_default()
        }
        None => {
            let stores = Stores::open(&settings.database_url, &settings.store_options()).await?;
            let stored = stores.keys.signing_keys(now).await?;
            stored
                .iter()
                .filter_map(|k| serde_json::from_str(&k.public_jwk).ok())
                .collect()
        }
    };
    let keys: Vec<VerifyingKey> = public
        .iter()
        .filter_map(|jwk| VerifyingKey::from_jwk(jwk).ok())
        .collect();
    let policy = key_policy(settings)?;
    let verifier = Verifier::new(keys, policy.issuer, policy.audience, policy.skew_seconds);
    for (name, part) in ["header", "claims"].iter().zip(token.split('.')) {
        let decoded = URL_SAFE_NO_PAD
            .decode(part)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
        match decoded {
            Some(json) => println!("{name}: {json}"),
            None => println!("{name}: (not base64url JSON)"),
        }
    }
    match verifier.verify(token, now.unix_timestamp()) {
        Ok(claims) => {
            println!("valid: signed by a published key; expires {}", claims.exp);
            Ok(())
        }
        Err(reason) => anyhow::bail!("invalid: {reason}"),
    }
}
