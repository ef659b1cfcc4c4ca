//! The JWT attack catalogue (`security-anchors.md` §2a) thrown at `/v1/me` and `/v1/token`:
//! every forged or bent token is refused with 401 `invalid_token` (or `invalid_grant`), on
//! every backend.

mod forge;

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, PUBLIC_URL, postgres_available};
use forge::{B64, fixture, forge, forge_with, seg};

async fn the_genuine_token_works_so_the_refusals_mean_something(backend: Backend) {
    let f = fixture(backend).await;
    assert_eq!(f.app.bearer_me(&f.good).await, StatusCode::OK);
    let resigned = f.real_signed(&f.header(), &f.payload(|_| {}));
    assert_eq!(
        f.app.bearer_me(&resigned).await,
        StatusCode::OK,
        "the test's own signing is sound"
    );
}

async fn alg_none_and_stripped_signatures(backend: Backend) {
    let f = fixture(backend).await;
    let (gh, gp, gs) = {
        let mut parts = f.good.split('.');
        (
            parts.next().unwrap().to_owned(),
            parts.next().unwrap().to_owned(),
            parts.next().unwrap().to_owned(),
        )
    };
    let admin = seg(&f.payload(|c| c["roles"] = json!(["admin"])));
    for alg in ["none", "None", "NONE", "nOnE"] {
        let h = seg(&json!({ "alg": alg, "kid": f.kid, "typ": "at+jwt" }).to_string());
        f.refused(alg, &format!("{h}.{admin}.")).await;
        f.refused(alg, &format!("{h}.{admin}.{gs}")).await;
    }
    f.refused("stripped", &format!("{gh}.{admin}.")).await;
    f.refused("two segments", &format!("{gh}.{admin}")).await;
    f.refused(
        "signature of another payload",
        &format!("{gh}.{admin}.{gs}"),
    )
    .await;
    f.refused(
        "psychic signature",
        &format!("{gh}.{gp}.{}", B64.encode([0u8; 64])),
    )
    .await;
}

async fn algorithm_confusion_and_foreign_keys(backend: Backend) {
    let f = fixture(backend).await;
    let payload = f.payload(|c| c["roles"] = json!(["admin"]));
    let public_x = B64
        .decode(f.real.public_jwk["x"].as_str().unwrap())
        .unwrap();
    let hs_header = json!({ "alg": "HS256", "kid": f.kid, "typ": "at+jwt" }).to_string();
    for (name, secret) in [
        ("HS256 keyed with the public key", public_x.clone()),
        (
            "HS256 keyed with the JWK text",
            f.real.public_jwk.to_string().into_bytes(),
        ),
        ("HS256 with a blank secret", Vec::new()),
    ] {
        let token = forge(
            &hs_header,
            &payload,
            &EncodingKey::from_secret(&secret),
            Algorithm::HS256,
        );
        f.refused(name, &token).await;
    }
    f.refused(
        "attacker key, real kid",
        &forge_with(&f.header(), &payload, &f.attacker),
    )
    .await;
    let nope = json!({ "alg": "EdDSA", "kid": "nope", "typ": "at+jwt" }).to_string();
    f.refused("unknown kid", &forge_with(&nope, &payload, &f.attacker))
        .await;
    for kid in [
        "../../../../dev/null".to_owned(),
        "x' UNION SELECT '1';--".to_owned(),
        "|sleep 10".to_owned(),
        "a\u{0}b".to_owned(),
        "k".repeat(10_000),
    ] {
        let header = json!({ "alg": "HS256", "kid": kid, "typ": "at+jwt" }).to_string();
        f.refused(
            "kid injection",
            &forge(
                &header,
                &payload,
                &EncodingKey::from_secret(b"1"),
                Algorithm::HS256,
            ),
        )
        .await;
    }
    for alg in ["ES384", "es256", "eddsa", "ES256"] {
        let header = json!({ "alg": alg, "kid": f.kid, "typ": "at+jwt" }).to_string();
        f.refused(alg, &f.real_signed(&header, &payload)).await;
    }
}

async fn key_carrying_and_critical_headers(backend: Backend) {
    let f = fixture(backend).await;
    let payload = f.payload(|_| {});
    let attacker_jwk = f.attacker.public_jwk.clone();
    for extra in [
        json!({ "jwk": attacker_jwk }),
        json!({ "jku": "http://127.0.0.1:1/jwks.json" }),
        json!({ "x5u": "http://127.0.0.1:1/cert.pem" }),
        json!({ "x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"] }),
        json!({ "crit": ["x-h"], "x-h": 1 }),
        json!({ "crit": [] }),
        json!({ "b64": false, "crit": ["b64"] }),
    ] {
        let mut header = json!({ "alg": "EdDSA", "kid": f.kid, "typ": "at+jwt" });
        for (k, v) in extra.as_object().unwrap() {
            header[k] = v.clone();
        }
        f.refused(
            &extra.to_string(),
            &f.real_signed(&header.to_string(), &payload),
        )
        .await;
        f.refused(
            &extra.to_string(),
            &forge_with(&header.to_string(), &payload, &f.attacker),
        )
        .await;
    }
    let jwt = json!({ "alg": "EdDSA", "kid": f.kid, "typ": "JWT" }).to_string();
    f.refused("typ JWT", &f.real_signed(&jwt, &payload)).await;
    let duplicate = format!(
        r#"{{"alg":"EdDSA","kid":"{}","typ":"at+jwt","alg":"none"}}"#,
        f.kid
    );
    f.refused("duplicate alg", &f.real_signed(&duplicate, &payload))
        .await;
}

async fn claims_of_the_wrong_time_type_or_audience(backend: Backend) {
    let f = fixture(backend).await;
    let now = f.claims["iat"].as_i64().unwrap();
    let h = f.header();
    let cases: Vec<(&str, String)> = vec![
        ("expired", f.payload(|c| c["exp"] = json!(now - 120))),
        ("not yet valid", f.payload(|c| c["nbf"] = json!(now + 3600))),
        (
            "issued in the future",
            f.payload(|c| c["iat"] = json!(now + 3600)),
        ),
        (
            "no exp",
            f.payload(|c| {
                c.as_object_mut().unwrap().remove("exp");
            }),
        ),
        (
            "string nbf",
            f.payload(|c| c["nbf"] = json!((now + 1_000_000_000).to_string())),
        ),
        ("string exp", f.payload(|c| c["exp"] = json!("1"))),
        ("boolean exp", f.payload(|c| c["exp"] = json!(true))),
        ("numeric sub", f.payload(|c| c["sub"] = json!(1))),
        (
            "foreign iss",
            f.payload(|c| c["iss"] = json!("https://evil.test")),
        ),
        (
            "iss with a slash",
            f.payload(|c| c["iss"] = json!(format!("{PUBLIC_URL}/"))),
        ),
        (
            "other audience",
            f.payload(|c| c["aud"] = json!("other-api")),
        ),
        (
            "no audience",
            f.payload(|c| {
                c.as_object_mut().unwrap().remove("aud");
            }),
        ),
        (
            "unknown session",
            f.payload(|c| c["sid"] = json!(uuid::Uuid::new_v4().to_string())),
        ),
        (
            "another user's session",
            f.payload(|c| c["sub"] = json!(uuid::Uuid::new_v4().to_string())),
        ),
    ];
    for (name, payload) in cases {
        f.refused(name, &f.real_signed(&h, &payload)).await;
    }
    let duplicate_sub = f
        .payload(|_| {})
        .replacen('{', r#"{"sub":"someone-else","#, 1);
    f.refused("duplicate sub", &f.real_signed(&h, &duplicate_sub))
        .await;
    let escaped = f
        .payload(|_| {})
        .replacen('{', r#"{"s\u0075b":"someone-else","#, 1);
    f.refused("escaped duplicate sub", &f.real_signed(&h, &escaped))
        .await;
    let deep = format!(r#"{{"x":{}{}}}"#, "[".repeat(3000), "]".repeat(3000));
    f.refused("deep nesting", &f.real_signed(&h, &deep)).await;
}

async fn non_canonical_encodings_extra_segments_and_size(backend: Backend) {
    let f = fixture(backend).await;
    let good = f.good.clone();
    f.refused("padding", &format!("{good}=")).await;
    // A character of the standard alphabet where the URL-safe one is required.
    let signature_start = good.rfind('.').unwrap() + 1;
    let mut standard = good.clone();
    standard.replace_range(signature_start..signature_start + 1, "+");
    f.refused("standard alphabet", &standard).await;
    let (head, tail) = good.split_at(good.len() / 2);
    // (A newline cannot travel in a header; a space or tab inside the token can.)
    f.refused("space inside", &format!("{head} {tail}")).await;
    f.refused("tab inside", &format!("{head}\t{tail}")).await;
    // Flip the unused low bits of the last signature character.
    let mut bytes = good.clone().into_bytes();
    let last = bytes.len() - 1;
    bytes[last] = match bytes[last] {
        b'A' => b'B',
        b'Q' => b'R',
        b'g' => b'h',
        b'w' => b'x',
        other => other ^ 1,
    };
    f.refused(
        "non-canonical last character",
        &String::from_utf8(bytes).unwrap(),
    )
    .await;
    f.refused("JWE-like extra segments", &format!("{good}.x.y"))
        .await;
    let mut parts = good.split('.');
    let polyglot =
        json!({ "protected": parts.next(), "payload": parts.next(), "signature": parts.next() })
            .to_string();
    f.refused("JSON serialization", &polyglot).await;
    let big = f.real_signed(
        &f.header(),
        &f.payload(|c| c["pad"] = json!("A".repeat(1_000_000))),
    );
    let response = f
        .app
        .client
        .get(f.app.url("/v1/me"))
        .bearer_auth(&big)
        .send()
        .await
        .unwrap();
    assert!(
        matches!(response.status().as_u16(), 400 | 401 | 431),
        "{}",
        response.status()
    );
}

async fn the_token_endpoint_refuses_bent_refresh_tokens(backend: Backend) {
    let f = fixture(backend).await;
    let tokens = f.app.tokens("alice").await;
    for (name, token) in [
        ("an access token as refresh token", f.good.clone()),
        (
            "a cookie session token",
            "hp_st_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned(),
        ),
        ("padded", format!("{}=", tokens.refresh)),
        (
            "truncated",
            tokens.refresh[..tokens.refresh.len() - 1].to_owned(),
        ),
        ("empty", String::new()),
    ] {
        let response = f.app.refresh(&token).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{name}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_grant", "{name}: {body}");
    }
    // A refresh token cannot be used as an access token either.
    f.refused("refresh token as access token", &tokens.refresh)
        .await;
    assert_eq!(
        f.app.refresh(&tokens.refresh).await.status(),
        StatusCode::OK,
        "the real one still works"
    );
}

macro_rules! on_every_backend {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test] async fn $test() { super::$test(super::Backend::Sqlite).await } )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    if super::postgres_available() {
                        super::$test(super::Backend::Postgres).await
                    }
                }
            )*
        }
    };
}

on_every_backend!(
    the_genuine_token_works_so_the_refusals_mean_something,
    alg_none_and_stripped_signatures,
    algorithm_confusion_and_foreign_keys,
    key_carrying_and_critical_headers,
    claims_of_the_wrong_time_type_or_audience,
    non_canonical_encodings_extra_segments_and_size,
    the_token_endpoint_refuses_bent_refresh_tokens
);
