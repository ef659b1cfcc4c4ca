use aws_lc_rs::rand::SystemRandom;

use super::*;
use crate::token::{KeyMaterial, SigningKey};

const NOW: i64 = 1_800_000_000;

fn key(alg: SigningAlg, kid: &str) -> SigningKey {
    SigningKey::new(&KeyMaterial::generate(alg, kid.to_owned(), &SystemRandom::new()).unwrap())
        .unwrap()
}

fn claims() -> AccessClaims {
    AccessClaims {
        iss: "https://auth.example".into(),
        sub: "user-1".into(),
        aud: "https://auth.example".into(),
        exp: NOW + 900,
        iat: NOW,
        nbf: NOW,
        jti: "j1".into(),
        sid: "s1".into(),
        roles: vec![],
        email_verified: false,
        amr: vec!["pwd".into()],
        auth_time: NOW,
    }
}

fn verifier(keys: &[SigningKey]) -> Verifier {
    Verifier::new(
        keys.iter().map(SigningKey::verifying),
        "https://auth.example".into(),
        "https://auth.example".into(),
        30,
    )
}

/// A token with exactly this header and payload text, signed with `key` as `alg`.
fn forge(header: &str, payload: &str, key: &SigningKey) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = key.sign_message(message.as_bytes()).unwrap();
    format!("{message}.{signature}")
}

fn payload(claims: &AccessClaims) -> String {
    serde_json::to_string(claims).unwrap()
}

#[test]
fn genuine_tokens_verify_for_each_algorithm() {
    for alg in [
        SigningAlg::EdDSA,
        SigningAlg::ES256,
        SigningAlg::RS256,
        SigningAlg::HS256,
    ] {
        let k = key(alg, "k1");
        let token = k.sign(&claims()).unwrap();
        assert_eq!(verifier(&[k]).verify(&token, NOW).unwrap(), claims());
    }
}

#[test]
fn the_header_decides_nothing() {
    let k = key(SigningAlg::EdDSA, "k1");
    let v = verifier(std::slice::from_ref(&k));
    let body = payload(&claims());
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"k1","typ":"at+jwt"}"#),
        URL_SAFE_NO_PAD.encode(&body)
    );
    assert_eq!(v.verify(&none, NOW), Err(TokenError::AlgorithmMismatch));
    // Key confusion: HS256 keyed with the public key bytes.
    let public = URL_SAFE_NO_PAD
        .decode(k.public_jwk["x"].as_str().unwrap())
        .unwrap();
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","kid":"k1","typ":"at+jwt"}"#),
        URL_SAFE_NO_PAD.encode(&body)
    );
    let sig = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &jsonwebtoken::EncodingKey::from_secret(&public),
        jsonwebtoken::Algorithm::HS256,
    )
    .unwrap();
    assert_eq!(
        v.verify(&format!("{message}.{sig}"), NOW),
        Err(TokenError::AlgorithmMismatch)
    );
    // The right key named with another key's algorithm.
    let es = key(SigningAlg::ES256, "k2");
    let v2 = verifier(&[k.clone(), es.clone()]);
    let swapped = forge(r#"{"alg":"EdDSA","kid":"k2","typ":"at+jwt"}"#, &body, &k);
    assert_eq!(v2.verify(&swapped, NOW), Err(TokenError::AlgorithmMismatch));
    let unknown = forge(r#"{"alg":"EdDSA","kid":"nope","typ":"at+jwt"}"#, &body, &k);
    assert_eq!(v.verify(&unknown, NOW), Err(TokenError::UnknownKey));
}

#[test]
fn key_carrying_and_critical_headers_are_refused() {
    let k = key(SigningAlg::EdDSA, "k1");
    let v = verifier(std::slice::from_ref(&k));
    let body = payload(&claims());
    for extra in [
        r#""jku":"https://evil.example/jwks""#,
        r#""x5u":"https://evil.example/cert""#,
        r#""jwk":{"kty":"OKP","crv":"Ed25519","x":"AA"}"#,
        r#""x5c":["MIIB"]"#,
        r#""crit":["exp"]"#,
        r#""cty":"JWT""#,
    ] {
        let header = format!(r#"{{"alg":"EdDSA","kid":"k1","typ":"at+jwt",{extra}}}"#);
        assert_eq!(
            v.verify(&forge(&header, &body, &k), NOW),
            Err(TokenError::ForbiddenHeader),
            "{extra}"
        );
    }
    let duplicate = r#"{"alg":"EdDSA","kid":"k1","typ":"at+jwt","kid":"k1"}"#;
    assert_eq!(
        v.verify(&forge(duplicate, &body, &k), NOW),
        Err(TokenError::Malformed)
    );
    let jwt = r#"{"alg":"EdDSA","kid":"k1","typ":"JWT"}"#;
    assert_eq!(
        v.verify(&forge(jwt, &body, &k), NOW),
        Err(TokenError::WrongType)
    );
}

#[test]
fn claims_are_checked_strictly() {
    let k = key(SigningAlg::EdDSA, "k1");
    let v = verifier(std::slice::from_ref(&k));
    let header = r#"{"alg":"EdDSA","kid":"k1","typ":"at+jwt"}"#;
    let mut c = claims();
    c.iss = "https://evil.example".into();
    assert_eq!(
        v.verify(&forge(header, &payload(&c), &k), NOW),
        Err(TokenError::WrongIssuer)
    );
    let mut c = claims();
    c.aud = "https://api.elsewhere".into();
    assert_eq!(
        v.verify(&forge(header, &payload(&c), &k), NOW),
        Err(TokenError::WrongAudience)
    );
    let text = payload(&claims()).replace(
        &format!("\"exp\":{}", NOW + 900),
        &format!("\"exp\":\"{}\"", NOW + 900),
    );
    assert_eq!(
        v.verify(&forge(header, &text, &k), NOW),
        Err(TokenError::Malformed),
        "string exp"
    );
    let text = payload(&claims()).replace("\"nbf\":", "\"nbf\":1.5,\"x\":");
    assert_eq!(
        v.verify(&forge(header, &text, &k), NOW),
        Err(TokenError::Malformed)
    );
    let text = payload(&claims()).replacen('{', &format!("{{\"exp\":{},", NOW + 99_999), 1);
    assert_eq!(
        v.verify(&forge(header, &text, &k), NOW),
        Err(TokenError::Malformed),
        "duplicate exp"
    );
    let text = payload(&claims()).replace(&format!(",\"nbf\":{NOW}"), "");
    assert_eq!(
        v.verify(&forge(header, &text, &k), NOW),
        Err(TokenError::Malformed),
        "missing nbf"
    );
}

/// A newer node's token, with a claim this version does not know, verifies (a rolling upgrade);
/// one from before `amr` and `auth_time` existed reads as having none.
#[test]
fn claims_from_newer_and_older_versions_are_read() {
    let k = key(SigningAlg::EdDSA, "k1");
    let v = verifier(std::slice::from_ref(&k));
    let header = r#"{"alg":"EdDSA","kid":"k1","typ":"at+jwt"}"#;
    let newer = payload(&claims()).replacen('{', r#"{"acr":"urn:example:loa2","#, 1);
    assert_eq!(v.verify(&forge(header, &newer, &k), NOW), Ok(claims()));
    let older = payload(&claims())
        .replace(r#","amr":["pwd"]"#, "")
        .replace(&format!(r#","auth_time":{NOW}"#), "");
    let read = v.verify(&forge(header, &older, &k), NOW).unwrap();
    assert!(read.amr.is_empty());
    assert_eq!(read.auth_time, 0);
}

#[test]
fn time_is_checked_with_the_skew() {
    let k = key(SigningAlg::EdDSA, "k1");
    let v = verifier(std::slice::from_ref(&k));
    let token = k.sign(&claims()).unwrap();
    assert!(v.verify(&token, NOW + 900 + 29).is_ok());
    assert_eq!(v.verify(&token, NOW + 900 + 30), Err(TokenError::Expired));
    assert!(v.verify(&token, NOW - 30).is_ok());
    assert_eq!(v.verify(&token, NOW - 31), Err(TokenError::NotYetValid));
    let strict = Verifier::new(
        vec![k.verifying()],
        "https://auth.example".into(),
        "https://auth.example".into(),
        0,
    );
    assert_eq!(strict.verify(&token, NOW + 900), Err(TokenError::Expired));
    let mut c = claims();
    c.iat = NOW + 3600;
    let future = k.sign(&c).unwrap();
    assert_eq!(
        strict.verify(&future, NOW),
        Err(TokenError::NotYetValid),
        "future iat"
    );
}

#[test]
fn tampering_and_shape() {
    let k = key(SigningAlg::EdDSA, "k1");
    let v = verifier(std::slice::from_ref(&k));
    let token = k.sign(&claims()).unwrap();
    let mut parts: Vec<String> = token.split('.').map(String::from).collect();
    let mut c = claims();
    c.roles = vec!["admin".into()];
    parts[1] = URL_SAFE_NO_PAD.encode(payload(&c));
    assert_eq!(
        v.verify(&parts.join("."), NOW),
        Err(TokenError::BadSignature)
    );
    assert_eq!(
        v.verify(&format!("{token}.x"), NOW),
        Err(TokenError::Malformed)
    );
    assert_eq!(v.verify("a.b", NOW), Err(TokenError::Malformed));
    assert_eq!(
        v.verify(&"a".repeat(MAX_TOKEN_BYTES + 1), NOW),
        Err(TokenError::TooLarge)
    );
    assert_eq!(
        v.verify(&format!("{token}="), NOW),
        Err(TokenError::Malformed)
    );
}

#[test]
fn sealed_keys_open_only_with_the_right_secret_and_kid() {
    let rng = SystemRandom::new();
    let material = KeyMaterial::generate(SigningAlg::EdDSA, "k1".into(), &rng).unwrap();
    let sealed = material.seal(&[1; 32], &rng).unwrap();
    let opened = KeyMaterial::open(
        "k1".into(),
        SigningAlg::EdDSA,
        &sealed,
        material.public_jwk.clone(),
        &[1; 32],
    )
    .unwrap();
    assert_eq!(*opened.private_pkcs8, *material.private_pkcs8);
    assert!(
        KeyMaterial::open(
            "k1".into(),
            SigningAlg::EdDSA,
            &sealed,
            material.public_jwk.clone(),
            &[2; 32]
        )
        .is_err()
    );
    assert!(
        KeyMaterial::open(
            "k2".into(),
            SigningAlg::EdDSA,
            &sealed,
            material.public_jwk.clone(),
            &[1; 32]
        )
        .is_err()
    );
    assert!(
        KeyMaterial::open(
            "k1".into(),
            SigningAlg::ES256,
            &sealed,
            material.public_jwk.clone(),
            &[1; 32]
        )
        .is_err()
    );
    assert!(!format!("{material:?}").contains(&format!("{:?}", &material.private_pkcs8[..4])));
}
