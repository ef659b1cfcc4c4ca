//! Making the attacker's tokens: segments, signatures with chosen algorithms and keys, and the
//! fixture (a server, a victim's genuine token and the keys around it).

use aws_lc_rs::rand::SystemRandom;
use base64::Engine;
pub(super) use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hallpass_core::token::{KeyMaterial, SigningAlg, SigningKey};
use jsonwebtoken::{Algorithm, EncodingKey};
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app_with};

pub(super) fn seg(value: &str) -> String {
    B64.encode(value)
}

pub(super) fn sign(message: &str, key: &EncodingKey, alg: Algorithm) -> String {
    jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).unwrap()
}

/// Header and payload text, signed by a hallpass key (ours or the attacker's).
pub(super) fn forge_with(header: &str, payload: &str, key: &SigningKey) -> String {
    let message = format!("{}.{}", seg(header), seg(payload));
    let signature = key.sign_message(message.as_bytes()).unwrap();
    format!("{message}.{signature}")
}

/// Header and payload text, signed with `key` as `alg`.
pub(super) fn forge(header: &str, payload: &str, key: &EncodingKey, alg: Algorithm) -> String {
    let message = format!("{}.{}", seg(header), seg(payload));
    let signature = sign(&message, key, alg);
    format!("{message}.{signature}")
}

pub(super) struct Fixture {
    pub(super) app: TestApp,
    pub(super) kid: String,
    pub(super) real: SigningKey,
    pub(super) attacker: SigningKey,
    pub(super) claims: Value,
    pub(super) good: String,
}

pub(super) async fn fixture(backend: Backend) -> Fixture {
    let app = spawn_app_with(backend, |_| {}).await;
    app.signup("alice").await;
    let tokens = app.tokens("alice").await;
    let real = app.state.tokens.keyring.current().signer.clone();
    let attacker = SigningKey::new(
        &KeyMaterial::generate(SigningAlg::EdDSA, real.kid.clone(), &SystemRandom::new()).unwrap(),
    )
    .unwrap();
    let claims: Value = serde_json::from_slice(
        &B64.decode(tokens.access.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    Fixture {
        kid: real.kid.clone(),
        app,
        real,
        attacker,
        claims,
        good: tokens.access,
    }
}

impl Fixture {
    pub(super) fn header(&self) -> String {
        json!({ "alg": "EdDSA", "kid": self.kid, "typ": "at+jwt" }).to_string()
    }

    pub(super) fn payload(&self, edit: impl FnOnce(&mut Value)) -> String {
        let mut claims = self.claims.clone();
        edit(&mut claims);
        claims.to_string()
    }

    /// Signed by the real key: only the claims are wrong.
    pub(super) fn real_signed(&self, header: &str, payload: &str) -> String {
        forge_with(header, payload, &self.real)
    }

    pub(super) async fn refused(&self, name: &str, token: &str) {
        let response = self
            .app
            .client
            .get(self.app.url("/v1/me"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let www = response
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap_or("").to_owned());
        let body = response.text().await.unwrap();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}: {body}");
        let www = www.unwrap_or_default();
        assert!(
            www.starts_with("Bearer error=\"invalid_token\""),
            "{name}: {www}"
        );
        assert!(
            !body.contains("alice"),
            "{name}: the body says who the token claimed to be"
        );
    }
}
