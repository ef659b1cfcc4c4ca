//! How a session was authenticated, as RFC 8176 "authentication method reference" values: the
//! `amr` claim of access tokens and `/v1/me`, and what step-up looks at.

use std::fmt;

/// One authentication method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// A password.
    Pwd,
    /// A one-time code from an authenticator app, or a recovery code.
    Otp,
    /// A key bound to hardware (a WebAuthn credential that cannot leave its authenticator).
    Hwk,
    /// A software key (a WebAuthn passkey that syncs between devices).
    Swk,
    /// An account at a social login provider (hallpass's own value: RFC 8176 names none).
    Fed,
    /// A code or link mailed to the account's proven address (hallpass's own value: a factor of
    /// its own, the mailbox, apart from an authenticator's `otp`).
    Email,
}

impl Method {
    /// The RFC 8176 value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pwd => "pwd",
            Self::Otp => "otp",
            Self::Hwk => "hwk",
            Self::Swk => "swk",
            Self::Fed => "fed",
            Self::Email => "email",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        [
            Self::Pwd,
            Self::Otp,
            Self::Hwk,
            Self::Swk,
            Self::Fed,
            Self::Email,
        ]
        .into_iter()
        .find(|m| m.as_str() == value)
    }
}

/// The methods a session's sign-in used, in a stable order, each once.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Amr(Vec<Method>);

impl Amr {
    /// Just `method`.
    pub fn one(method: Method) -> Self {
        Self(vec![method])
    }

    /// These methods and `method`.
    #[must_use]
    pub fn with(mut self, method: Method) -> Self {
        if !self.0.contains(&method) {
            self.0.push(method);
            self.0.sort();
        }
        self
    }

    /// Whether a second factor took part: two methods or more.
    pub fn is_multi_factor(&self) -> bool {
        self.0.len() >= 2
    }

    /// The claim's values: each method, then `mfa` when there were two or more.
    pub fn values(&self) -> Vec<&'static str> {
        let mut values: Vec<&'static str> = self.0.iter().map(|m| m.as_str()).collect();
        if self.is_multi_factor() {
            values.push("mfa");
        }
        values
    }

    /// The stored form: the methods, space-separated.
    pub fn to_stored(&self) -> String {
        self.0
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Reads the stored form; unknown values (from a newer version) are passed over, and an
    /// empty result reads as a password, what every session before this column was.
    pub fn from_stored(stored: &str) -> Self {
        let mut amr = Self::default();
        for method in stored.split_whitespace().filter_map(Method::parse) {
            amr = amr.with(method);
        }
        if amr.0.is_empty() {
            amr = Self::one(Method::Pwd);
        }
        amr
    }
}

impl fmt::Display for Amr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_stored())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_method_makes_it_multi_factor() {
        let pwd = Amr::one(Method::Pwd);
        assert_eq!(pwd.values(), ["pwd"]);
        assert!(!pwd.is_multi_factor());
        let both = pwd.with(Method::Otp).with(Method::Otp);
        assert_eq!(both.values(), ["pwd", "otp", "mfa"]);
        assert_eq!(Amr::from_stored(&both.to_stored()), both);
        assert_eq!(Amr::from_stored(""), Amr::one(Method::Pwd));
        assert_eq!(Amr::from_stored("otp nonsense pwd"), both);
    }
}
