//! Access tokens (JWS, RFC 9068) and refresh tokens (opaque, HMAC-derived per generation).

pub mod claims;
pub mod keys;
pub mod refresh;
pub mod verify;

pub use claims::AccessClaims;
pub use keys::{KeyError, KeyMaterial, SigningAlg, SigningKey, VerifyingKey};
pub use refresh::{RefreshDecision, RefreshKey, RefreshState, RefreshToken, decide};
pub use verify::{TokenError, Verifier};

/// The `iat` below which a user's access tokens must be refused after a change to the account
/// at `at` (the `issued_before` of the revocation feed's user entries).
///
/// `iat` counts whole seconds, so a token minted earlier in the same second as the change has
/// the same `iat` as one minted just after it. The mark is the next whole second: every token
/// minted up to the change is refused, at the price of also refusing one minted in the rest of
/// that second (the client's next refresh, a second later, is accepted).
pub fn iat_watermark(at: time::OffsetDateTime) -> i64 {
    at.unix_timestamp().saturating_add(1)
}

/// How the revocation feed names a user: base64url (no padding) of SHA-256 of the token's
/// `sub`. A verifier holding a token can match it; a reader of the public feed learns no
/// account id.
pub fn sub_sha256(sub: &str) -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    use sha2::{Digest, Sha256};
    URL_SAFE_NO_PAD.encode(Sha256::digest(sub.as_bytes()))
}

#[cfg(test)]
mod watermark_tests {
    use super::iat_watermark;
    use time::{Duration, OffsetDateTime};

    #[test]
    fn the_watermark_covers_the_whole_second_of_the_change() {
        let second = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let t = second.unix_timestamp();
        assert_eq!(iat_watermark(second), t + 1, "on a whole second");
        assert_eq!(iat_watermark(second + Duration::milliseconds(999)), t + 1);
        assert_eq!(iat_watermark(second + Duration::seconds(1)), t + 2);
    }
}
