//! Second factors (docs/factors.md): authenticator-app codes (RFC 6238 TOTP), recovery codes,
//! the challenge a correct first factor leaves when a second step is due, and the RFC 8176
//! method values a session records about how it was authenticated.

pub mod amr;
pub mod challenge;
pub mod recovery;
pub mod totp;

use std::fmt;

use uuid::Uuid;

/// A factor's public handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FactorId(pub Uuid);

impl fmt::Display for FactorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What kind of second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FactorKind {
    /// An authenticator app's six-digit codes.
    Totp,
    /// A WebAuthn credential (a security key, a phone, a laptop's platform authenticator).
    Passkey,
}

impl FactorKind {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::Passkey => "passkey",
        }
    }

    /// The kind with this stored name.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Totp, Self::Passkey]
            .into_iter()
            .find(|k| k.as_str() == name)
    }
}

/// The longest name a user may give a factor ("Phone", "YubiKey 5C").
pub const MAX_FACTOR_NAME_CHARS: usize = 64;

/// A factor's name as the user typed it: trimmed, 1 to [`MAX_FACTOR_NAME_CHARS`] characters, no
/// control characters; `None` for anything else.
pub fn factor_name(input: &str) -> Option<String> {
    let name = input.trim();
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_FACTOR_NAME_CHARS
        && !name.chars().any(char::is_control);
    ok.then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_names_are_bounded() {
        for kind in [FactorKind::Totp, FactorKind::Passkey] {
            assert_eq!(FactorKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(FactorKind::parse("sms"), None);
        assert_eq!(factor_name("  Phone "), Some("Phone".to_owned()));
        assert_eq!(factor_name("   "), None);
        assert_eq!(factor_name("a\u{7}b"), None);
        assert!(factor_name(&"x".repeat(64)).is_some());
        assert!(factor_name(&"x".repeat(65)).is_none());
    }
}
