//! Credentials for the operations endpoints (`/metrics`, `/v1/revocations`) as read from settings.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The fewest characters an operations token may have: 32 random characters are far beyond
/// guessing, and the comparison is of digests in constant time.
pub const MIN_OPS_TOKEN_CHARS: usize = 32;

/// A bearer credential an operator chose for an operations endpoint. Printed as `[redacted]`;
/// the server keeps only its SHA-256 digest once started.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OpsToken(String);

impl OpsToken {
    /// The token as configured.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Why the token cannot be used, if it cannot: too short, or not visible ASCII (it travels
    /// in an `Authorization` header).
    pub(super) fn problem(&self) -> Option<String> {
        if self.0.chars().count() < MIN_OPS_TOKEN_CHARS {
            return Some(format!("must be at least {MIN_OPS_TOKEN_CHARS} characters"));
        }
        if !self.0.bytes().all(|b| b.is_ascii_graphic()) {
            return Some("must be visible ASCII without spaces".to_owned());
        }
        None
    }
}

impl From<&str> for OpsToken {
    fn from(token: &str) -> Self {
        Self(token.to_owned())
    }
}

impl std::fmt::Debug for OpsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The digest of a configured operations token; the token itself is not kept. The HTTP side
/// (`http/ops_access.rs`) reads the credential from the request and asks [`Self::matches`].
#[derive(Clone)]
pub struct OpsAccess {
    digest: [u8; 32],
}

impl OpsAccess {
    /// Keeps the digest of `token`.
    pub fn new(token: &OpsToken) -> Self {
        Self {
            digest: Sha256::digest(token.expose().as_bytes()).into(),
        }
    }

    /// Whether `presented` is the token, compared by digest in constant time.
    pub fn matches(&self, presented: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        bool::from(digest.ct_eq(&self.digest))
    }
}

impl std::fmt::Debug for OpsAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpsAccess([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Overrides, load};

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn operations_settings_are_read_checked_and_never_printed() {
        let token = "a-metrics-token-of-enough-length-123";
        let (settings, _) = load(
            None,
            env(&[
                ("HALLPASS_METRICS_TOKEN", token),
                ("HALLPASS_METRICS_LISTEN", "127.0.0.1:9090"),
                ("HALLPASS_REVOCATION_FEED_TOKEN", token),
            ]),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(
            settings.metrics_token.as_ref().map(|t| t.expose()),
            Some(token)
        );
        assert_eq!(
            settings.metrics_listen,
            Some("127.0.0.1:9090".parse().unwrap())
        );
        assert!(!format!("{settings:?}").contains(token));
        for (name, value) in [
            ("HALLPASS_METRICS_TOKEN", "short"),
            (
                "HALLPASS_REVOCATION_FEED_TOKEN",
                "has spaces in it, which a header cannot carry",
            ),
            ("HALLPASS_METRICS_LISTEN", "127.0.0.1:8080"),
        ] {
            let setting = name.trim_start_matches("HALLPASS_").to_ascii_lowercase();
            let err = load(
                None,
                env(&[(name, value), ("HALLPASS_LISTEN", "127.0.0.1:8080")]),
                &Overrides::default(),
            )
            .unwrap_err();
            assert!(err.to_string().contains(&setting), "{err}");
        }
    }
}
