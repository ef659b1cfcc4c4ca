//! Users: who they are and the rules their names, emails and roles follow.

use std::fmt;

use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{ValidationError, password::PasswordHash};

/// A user's public, stable identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct UserId(pub Uuid);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A username: 3–64 ASCII letters, digits, `.`, `_` or `-`, compared case-insensitively.
///
/// ASCII only, so that two names that look alike on screen are the same name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Parses a username as typed: surrounding whitespace is dropped, the case is kept for display.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let name = input.trim();
        let length = name.chars().count();
        if !(3..=64).contains(&length) {
            return Err(ValidationError::new(
                "username",
                "must be 3 to 64 characters long",
            ));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(ValidationError::new(
                "username",
                "may contain only letters, digits, '.', '_' and '-'",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as the user typed it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used for uniqueness and look-up: lower case.
    pub fn canonical(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl AsRef<str> for Username {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// An email address, checked only for shape: one `@` with something on both sides, no spaces,
/// at most 254 characters. Whether it receives mail is not for an auth server to guess.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Parses an email address; surrounding whitespace is dropped.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let email = input.trim();
        let invalid = || ValidationError::new("email", "is not an email address");
        if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
        if local.is_empty() || domain.is_empty() || domain.contains('@') {
            return Err(invalid());
        }
        Ok(Self(email.to_owned()))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A role name: 1–32 lower-case ASCII letters, digits, `_` or `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Role(String);

impl Role {
    /// The role that may use the admin API and pages.
    pub fn admin() -> Self {
        Self("admin".to_owned())
    }

    /// Parses a role name.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let valid = (1..=32).contains(&input.len())
            && input
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'));
        if valid {
            Ok(Self(input.to_owned()))
        } else {
            Err(ValidationError::new(
                "roles",
                "each role is 1 to 32 lower-case letters, digits, '_' or '-'",
            ))
        }
    }

    /// The role name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Parses a list of role names, sorted and without repeats.
pub fn parse_roles<'a>(
    input: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<Role>, ValidationError> {
    let mut roles = input
        .into_iter()
        .map(Role::parse)
        .collect::<Result<Vec<_>, _>>()?;
    roles.sort();
    roles.dedup();
    Ok(roles)
}

/// A user account as stored.
#[derive(Debug, Clone)]
pub struct User {
    /// Public identifier.
    pub id: UserId,
    /// The name as registered (display form).
    pub username: String,
    /// Optional contact address, unique among accounts (see [`crate::email::email_key`]).
    pub email: Option<Email>,
    /// Whether `email` was proven to receive mail (a link or code sent to it came back, or a
    /// provider vouched for it). Changing the address clears it.
    pub email_verified: bool,
    /// Roles, sorted.
    pub roles: Vec<Role>,
    /// A disabled user cannot log in and has no live sessions.
    pub disabled: bool,
    /// The argon2id PHC string of the password.
    pub password_hash: PasswordHash,
    /// When the account was created.
    pub created_at: OffsetDateTime,
}

impl User {
    /// Whether the user holds `role`.
    pub fn has_role(&self, role: &Role) -> bool {
        self.roles.contains(role)
    }

    /// Whether the user is an administrator.
    pub fn is_admin(&self) -> bool {
        self.has_role(&Role::admin())
    }

    /// Whether the user can administer now: an administrator whose account is not disabled.
    /// Hallpass never lets the last of these go (`last_admin`).
    pub fn is_enabled_admin(&self) -> bool {
        !self.disabled && self.is_admin()
    }
}

/// A user about to be created.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Identifier chosen by the caller.
    pub id: UserId,
    /// The validated username.
    pub username: Username,
    /// Optional contact address.
    pub email: Option<Email>,
    /// Whether the address is already proven (a provider vouched for it).
    pub email_verified: bool,
    /// Initial roles.
    pub roles: Vec<Role>,
    /// The password, already hashed.
    pub password_hash: PasswordHash,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_rules() {
        assert_eq!(
            Username::parse("  Alice.B_c-1 ").unwrap().as_str(),
            "Alice.B_c-1"
        );
        assert_eq!(Username::parse("Alice").unwrap().canonical(), "alice");
        for bad in [
            "ab",
            "",
            &"a".repeat(65),
            "al ice",
            "alice!",
            "ålice",
            "a\u{0}bc",
        ] {
            let err = Username::parse(bad).unwrap_err();
            assert_eq!(err.field, "username", "{bad:?}");
        }
        assert!(Username::parse(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn emails_are_checked_for_shape_only() {
        assert!(Email::parse("a@b").is_ok());
        assert!(Email::parse(" user+tag@example.com ").is_ok());
        for bad in [
            "",
            "a",
            "@b",
            "a@",
            "a b@c",
            "a@b@c",
            &format!("{}@b", "a".repeat(260)),
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn roles_are_normalised() {
        let roles = parse_roles(["admin", "editor", "admin"]).unwrap();
        assert_eq!(roles, vec![Role::admin(), Role::parse("editor").unwrap()]);
        assert!(parse_roles(["Admin"]).is_err());
        assert!(parse_roles([""]).is_err());
    }
}
