//! Access-token verification per docs/design.md §5 and RFC 8725.
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
mod tests;
