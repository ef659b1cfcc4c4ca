//! Social-login identities: an account at a configured provider, linked to a hallpass user.
//!
//! A provider vouches for a *subject* (its own, stable id for the person); hallpass keeps which
//! user each `(provider, subject)` belongs to. A user may hold several identities, and a user
//! created by a social login may have no usable password at all
//! ([`PasswordHash::unusable`](crate::password::PasswordHash::unusable)).

use std::fmt;

use serde::Serialize;
use time::OffsetDateTime;

use crate::{
    ValidationError,
    user::{Email, UserId},
};

/// Longest provider name, in characters.
pub const PROVIDER_NAME_MAX_CHARS: usize = 32;
/// Longest subject, in characters (Unicode scalar values); OpenID Connect caps `sub` at 255
/// ASCII characters.
pub const SUBJECT_MAX_CHARS: usize = 255;

/// The name of a configured provider, as it appears in the TOML table (`[providers.kakao]`) and
/// in the URL (`/v1/oauth/kakao/callback`): 1–32 lower-case ASCII letters, digits, `_` or `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ProviderName(String);

impl ProviderName {
    /// Parses a provider name exactly as given: it names a URL segment and a table key, so
    /// nothing is trimmed or folded.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let valid = (1..=PROVIDER_NAME_MAX_CHARS).contains(&input.len())
            && input
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'));
        if valid {
            Ok(Self(input.to_owned()))
        } else {
            Err(ValidationError::new(
                "provider",
                format!(
                    "must be 1 to {PROVIDER_NAME_MAX_CHARS} lower-case letters, digits, '_' or '-'"
                ),
            ))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ProviderName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProviderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The provider's identifier for a person (OpenID Connect `sub`, or the numeric id of a plain
/// OAuth API turned into text): 1–255 characters without control characters.
///
/// Opaque and compared exactly: providers treat it as case-sensitive, and surrounding
/// whitespace, however unlikely, is part of it, so nothing is trimmed or folded.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Subject(String);

impl Subject {
    /// Parses a subject exactly as the provider sent it.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        if input.is_empty() {
            return Err(ValidationError::new("subject", "must not be empty"));
        }
        if input.chars().count() > SUBJECT_MAX_CHARS {
            return Err(ValidationError::new(
                "subject",
                format!("must be at most {SUBJECT_MAX_CHARS} characters long"),
            ));
        }
        if input.chars().any(char::is_control) {
            return Err(ValidationError::new(
                "subject",
                "must not contain control characters",
            ));
        }
        Ok(Self(input.to_owned()))
    }

    /// The subject.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Subject {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// An identity about to be linked.
#[derive(Debug, Clone)]
pub struct NewIdentity {
    /// The user it is linked to; the user must exist (or be created along with it).
    pub user: UserId,
    /// The provider that vouches for it.
    pub provider: ProviderName,
    /// Who the provider says the person is.
    pub subject: Subject,
    /// The address the provider reported, if any, as of linking.
    pub email: Option<Email>,
    /// When it was linked.
    pub created_at: OffsetDateTime,
}

/// A linked identity as stored. At most one user holds a given `(provider, subject)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The user it is linked to.
    pub user: UserId,
    /// The provider that vouches for it.
    pub provider: ProviderName,
    /// Who the provider says the person is.
    pub subject: Subject,
    /// The address the provider reported, if any, as of linking.
    pub email: Option<Email>,
    /// When it was linked.
    pub created_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_names_follow_the_rules() {
        for good in [
            "kakao",
            "google",
            "github",
            "corp_sso-2",
            "a",
            "0",
            "-",
            "_",
        ] {
            assert_eq!(ProviderName::parse(good).unwrap().as_str(), good);
        }
        let longest = "a".repeat(PROVIDER_NAME_MAX_CHARS);
        assert!(ProviderName::parse(&longest).is_ok());
        for bad in [
            "",
            &"a".repeat(PROVIDER_NAME_MAX_CHARS + 1),
            "Google",
            " kakao",
            "kakao ",
            "corp.sso",
            "corp/sso",
            "kakáo",
            "a\u{0}",
        ] {
            let err = ProviderName::parse(bad).unwrap_err();
            assert_eq!(err.field, "provider", "{bad:?}");
        }
    }

    #[test]
    fn provider_names_display_as_typed() {
        let name = ProviderName::parse("kakao").unwrap();
        assert_eq!(
            format!("/v1/oauth/{name}/callback"),
            "/v1/oauth/kakao/callback"
        );
        assert_eq!(serde_json::to_string(&name).unwrap(), "\"kakao\"");
    }

    #[test]
    fn subjects_are_kept_exactly() {
        for good in [
            "1",
            "3141592653",
            "110169484474386276334",
            "AbC-xyz_09",
            " padded ",
            "사용자",
            "<script>",
        ] {
            assert_eq!(Subject::parse(good).unwrap().as_str(), good);
        }
        assert_ne!(
            Subject::parse("abc").unwrap(),
            Subject::parse("ABC").unwrap()
        );
    }

    #[test]
    fn subjects_follow_the_rules() {
        assert!(Subject::parse(&"🦀".repeat(SUBJECT_MAX_CHARS)).is_ok());
        for bad in [
            "",
            &"a".repeat(SUBJECT_MAX_CHARS + 1),
            &"🦀".repeat(SUBJECT_MAX_CHARS + 1),
            "two\nlines",
            "tab\there",
            "nul\u{0}",
            "del\u{7f}",
            "c1\u{85}control",
        ] {
            let err = Subject::parse(bad).unwrap_err();
            assert_eq!(err.field, "subject", "{bad:?}");
        }
    }
}
