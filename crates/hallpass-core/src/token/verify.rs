//! Access-token verification per DESIGN §5 and RFC 8725.
//!
//! jsonwebtoken checks the signature; the header and claims are parsed here, strictly, because
//! its `decode` ignores unknown header members (`jku`, `x5u`, `jwk`, `crit` would pass), takes
//! time from the system clock instead of ours, and a lax `Validation` is one setting away.

use std::collections::HashMap;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Deserialize;

use super::{AccessClaims, keys::SigningAlg, keys::VerifyingKey};

/// Tokens longer than this are refused before any parsing.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Why an access token was refused. The text goes into `WWW-Authenticate: error_description`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Over [`MAX_TOKEN_BYTES`].
    #[error("the token is too large")]
    TooLarge,
    /// Not three base64url parts of JSON objects of the right shape.
    #[error("the token is malformed")]
    Malformed,
    /// The header has members other than `alg`, `kid` and `typ` (`jku`, `jwk`, `x5u`, `crit`…).
    #[error("the token header is not accepted")]
    ForbiddenHeader,
    /// `typ` is not `at+jwt`.
    #[error("the token is not an access token")]
    WrongType,
    /// No key with this `kid`.
    #[error("the token's key is unknown")]
    UnknownKey,
    /// The header's `alg` is not the algorithm of the key `kid` names.
    #[error("the token's algorithm does not match its key")]
    AlgorithmMismatch,
    /// The signature does not verify.
    #[error("the token signature is invalid")]
    BadSignature,
    /// `iss` is not ours.
    #[error("the token was issued by someone else")]
    WrongIssuer,
    /// `aud` is not ours.
    #[error("the token is meant for someone else")]
    WrongAudience,
    /// Past `exp` (with the skew tolerance).
    #[error("the token has expired")]
    Expired,
    /// Before `nbf` (with the skew tolerance).
    #[error("the token is not valid yet")]
    NotYetValid,
    /// The token's session or user was revoked.
    #[error("the token has been revoked")]
    Revoked,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    alg: String,
    kid: String,
    typ: String,
}

/// Verifies access tokens against a set of keys.
#[derive(Debug, Clone, Default)]
pub struct Verifier {
    keys: HashMap<String, VerifyingKey>,
    issuer: String,
    audience: String,
    skew: i64,
}

impl Verifier {
    /// A verifier for tokens from `issuer` meant for `audience`, tolerating `skew_seconds` of
    /// clock difference, with `keys`.
    pub fn new(
        keys: impl IntoIterator<Item = VerifyingKey>,
        issuer: String,
        audience: String,
        skew_seconds: i64,
    ) -> Self {
        Self {
            keys: keys.into_iter().map(|k| (k.kid.clone(), k)).collect(),
            issuer,
            audience,
            skew: skew_seconds,
        }
    }

    /// The key `kid` names, if known.
    pub fn key(&self, kid: &str) -> Option<&VerifyingKey> {
        self.keys.get(kid)
    }

    /// Full verification at `now` (seconds since the epoch).
    pub fn verify(&self, token: &str, now: i64) -> Result<AccessClaims, TokenError> {
        let claims = self.verify_signed(token)?;
        self.check_time(&claims, now)?;
        Ok(claims)
    }

    /// Everything but the time checks: for a cache that re-checks time on every use.
    pub fn verify_signed(&self, token: &str) -> Result<AccessClaims, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::TooLarge);
        }
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let header_json = URL_SAFE_NO_PAD
            .decode(header_b64)
            .map_err(|_| TokenError::Malformed)?;
        let header: Header = serde_json::from_slice(&header_json).map_err(|e| {
            if e.to_string().contains("unknown field") {
                TokenError::ForbiddenHeader
            } else {
                TokenError::Malformed
            }
        })?;
        if !header.typ.eq_ignore_ascii_case("at+jwt")
            && !header.typ.eq_ignore_ascii_case("application/at+jwt")
        {
            return Err(TokenError::WrongType);
        }
        let key = self.keys.get(&header.kid).ok_or(TokenError::UnknownKey)?;
        if SigningAlg::parse(&header.alg) != Some(key.alg) {
            return Err(TokenError::AlgorithmMismatch);
        }
        let message_len = header_b64.len() + 1 + payload_b64.len();
        let message = token.get(..message_len).ok_or(TokenError::Malformed)?;
        let valid = jsonwebtoken::crypto::verify(
            signature_b64,
            message.as_bytes(),
            &key.decoding,
            key.alg.jose(),
        )
        .map_err(|_| TokenError::Malformed)?;
        if !valid {
            return Err(TokenError::BadSignature);
        }
        let payload = URL_SAFE_NO_PAD
            .decode(payload_b64)
            .map_err(|_| TokenError::Malformed)?;
        let claims: AccessClaims =
            serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)?;
        if claims.iss != self.issuer {
            return Err(TokenError::WrongIssuer);
        }
        if claims.aud != self.audience {
            return Err(TokenError::WrongAudience);
        }
        Ok(claims)
    }

    /// `exp` and `nbf` against `now`, with the skew tolerance.
    pub fn check_time(&self, claims: &AccessClaims, now: i64) -> Result<(), TokenError> {
        if now >= claims.exp.saturating_add(self.skew) {
            return Err(TokenError::Expired);
        }
        // A token issued in the future (beyond the skew) was not issued by a sane clock of ours.
        if now < claims.nbf.saturating_sub(self.skew) || now < claims.iat.saturating_sub(self.skew)
        {
            return Err(TokenError::NotYetValid);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
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
}
