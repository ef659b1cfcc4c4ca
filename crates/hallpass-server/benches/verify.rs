//! The access-token check a Bearer request pays, next to the bare signature check of the same
//! crate (jsonwebtoken on aws-lc-rs). Run: `cargo bench -p hallpass-server --bench verify`.

#![expect(clippy::unwrap_used, reason = "a benchmark fixture should fail loudly")]

use std::hint::black_box;

use aws_lc_rs::rand::SystemRandom;
use criterion::{Criterion, criterion_group, criterion_main};
use hallpass_core::token::{AccessClaims, KeyMaterial, SigningAlg, SigningKey, Verifier};
use hallpass_server::tokens::{verified::VerifiedTokens, verify_token};
use hallpass_store::RevokedSessions;
use time::{Duration, OffsetDateTime};

fn fixture(alg: SigningAlg) -> (SigningKey, Verifier, String, OffsetDateTime) {
    let key = SigningKey::new(
        &KeyMaterial::generate(alg, "2026-11-22-bench".into(), &SystemRandom::new()).unwrap(),
    )
    .unwrap();
    let now = OffsetDateTime::now_utc();
    let claims = AccessClaims {
        iss: "https://auth.example".into(),
        sub: uuid::Uuid::new_v4().to_string(),
        aud: "https://auth.example".into(),
        exp: now.unix_timestamp() + 900,
        iat: now.unix_timestamp(),
        nbf: now.unix_timestamp(),
        jti: uuid::Uuid::new_v4().to_string(),
        sid: uuid::Uuid::new_v4().to_string(),
        roles: vec!["admin".into()],
        email_verified: true,
        amr: vec!["pwd".into()],
        auth_time: now.unix_timestamp(),
    };
    let token = key.sign(&claims).unwrap();
    let verifier = Verifier::new(
        [key.verifying()],
        "https://auth.example".into(),
        "https://auth.example".into(),
        30,
    );
    (key, verifier, token, now)
}

fn verify(c: &mut Criterion) {
    for alg in [SigningAlg::EdDSA, SigningAlg::ES256] {
        let (key, verifier, token, now) = fixture(alg);
        let revoked = RevokedSessions::new(Duration::minutes(16));
        // A few revoked sessions, so the look-up is not into an empty map.
        for _ in 0..1000 {
            revoked.insert(hallpass_core::session::SessionId(uuid::Uuid::new_v4()), now);
        }
        let (message, signature) = token.rsplit_once('.').unwrap();
        let mut group = c.benchmark_group(alg.as_str());
        group.bench_function(
            "bare signature verify (jsonwebtoken::crypto::verify)",
            |b| {
                b.iter(|| {
                    jsonwebtoken::crypto::verify(
                        black_box(signature),
                        black_box(message.as_bytes()),
                        &key.decoding,
                        alg.jose(),
                    )
                    .unwrap()
                })
            },
        );
        let uncached = VerifiedTokens::new(0);
        group.bench_function("full verify path, uncached", |b| {
            b.iter(|| verify_token(&verifier, &uncached, &revoked, black_box(&token), now).unwrap())
        });
        let cache = VerifiedTokens::new(100_000);
        verify_token(&verifier, &cache, &revoked, &token, now).unwrap();
        group.bench_function("full verify path, cached", |b| {
            b.iter(|| verify_token(&verifier, &cache, &revoked, black_box(&token), now).unwrap())
        });
        group.finish();
    }
}

criterion_group!(benches, verify);
criterion_main!(benches);
