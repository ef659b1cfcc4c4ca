//! Passwords: the rules a new one must meet, and argon2id hashing with reusable memory.
//!
//! Hashing is pure computation (tens of milliseconds of CPU), so it lives here; *where* it runs
//! (a bounded pool of threads off the async workers) is the server's business.

use std::fmt;

use argon2::{
    Algorithm, Argon2, Block, Params, Version,
    password_hash::phc::{self, Output, ParamsString, Salt},
};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::ValidationError;

/// Fewest characters a password may have.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Most characters a password may have (argon2 would take more; people do not need more).
pub const MAX_PASSWORD_CHARS: usize = 128;
/// Lowest zxcvbn score (0–4) a new password must reach: 3 is "safely unguessable" (≥ 10^8
/// guesses), which refuses dictionary words, keyboard walks, dates and names with digits added.
const MIN_STRENGTH_SCORE: u8 = 3;

/// A new password that passed the rules. Held in memory that is wiped on drop.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

impl Password {
    /// Parses a new password: 8–128 characters, no composition rules, and not common or easy to
    /// guess (zxcvbn), also considering `context` (the username, the email) as guessable words.
    ///
    /// The password is taken exactly as given: no trimming, no normalisation.
    pub fn parse(
        input: &str,
        field: &'static str,
        context: &[&str],
    ) -> Result<Self, ValidationError> {
        let length = input.chars().count();
        if length < MIN_PASSWORD_CHARS {
            return Err(ValidationError::new(
                field,
                format!("must be at least {MIN_PASSWORD_CHARS} characters long"),
            ));
        }
        if length > MAX_PASSWORD_CHARS {
            return Err(ValidationError::new(
                field,
                format!("must be at most {MAX_PASSWORD_CHARS} characters long"),
            ));
        }
        let estimate = zxcvbn::zxcvbn(input, context);
        if u8::from(estimate.score()) < MIN_STRENGTH_SCORE {
            let hint = estimate
                .feedback()
                .and_then(|feedback| {
                    feedback
                        .warning()
                        .map(|w| w.to_string().trim_end_matches('.').to_owned())
                })
                .filter(|w| !w.is_empty())
                .unwrap_or_else(|| "it is too easy to guess".to_owned());
            return Err(ValidationError::new(
                field,
                format!(
                    "is too common or easy to guess: {hint}. A few unrelated words make a strong password"
                ),
            ));
        }
        Ok(Self(Zeroizing::new(input.to_owned())))
    }

    /// A password that was accepted once already (for re-hashing it with new parameters after
    /// it verified): the rules are not checked again, since they may have changed since.
    pub fn already_accepted(input: &str) -> Self {
        Self(Zeroizing::new(input.to_owned()))
    }

    /// The password's bytes, for hashing.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// An argon2 PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), or the marker of an account
/// without a password ([`unusable`](Self::unusable)). Not a secret in itself but never printed,
/// since offline guessing starts from it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

/// What starts a stored hash that no password matches. A PHC string starts with `$`, so nothing
/// [`PasswordHasher::hash`] makes can be mistaken for it (the same convention as `!` in
/// `/etc/shadow`). The store tests the same first character in SQL when it decides whether a
/// user still has a way to log in.
const UNUSABLE_PREFIX: char = '!';

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash([redacted])")
    }
}

impl PasswordHash {
    /// Wraps a PHC string read from the store.
    pub fn from_phc(phc: String) -> Self {
        Self(phc)
    }

    /// The marker stored for a user who has no password (created by a social login): it fits the
    /// column a PHC string goes in, and [`PasswordHasher::verify`] never matches it.
    pub fn unusable() -> Self {
        Self(UNUSABLE_PREFIX.to_string())
    }

    /// Whether some password could match this hash: false for [`unusable`](Self::unusable) (and
    /// anything else starting with `!`).
    pub fn is_usable(&self) -> bool {
        !self.0.starts_with(UNUSABLE_PREFIX)
    }

    /// The PHC string, for the store.
    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

/// Hashing failed for a reason that is the server's fault (bad parameters, corrupt stored hash).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashingError(String);

impl HashingError {
    /// The operating system could not provide a salt.
    pub fn from_rng(error: &dyn fmt::Display) -> Self {
        Self(format!("no randomness for the salt: {error}"))
    }
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// The password matches. `needs_rehash` is set when the stored hash was made with other
    /// parameters than the current ones.
    Match {
        /// Re-hash with the current parameters and store the result.
        needs_rehash: bool,
    },
    /// The password does not match.
    Mismatch,
}

/// Reusable argon2 working memory, one per hashing thread: allocating 19 MiB per hash lets
/// glibc's arenas grow to gigabytes under a login storm; reusing one buffer keeps memory flat.
#[derive(Default)]
pub struct HashMemory(Vec<Block>);

impl HashMemory {
    fn blocks(&mut self, params: &Params) -> &mut [Block] {
        let needed = params.block_count();
        if self.0.len() < needed {
            self.0.resize(needed, Block::new());
        }
        &mut self.0[..needed]
    }
}

/// argon2id with the configured cost; verifies hashes made with any argon2 parameters.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    params: Params,
    dummy: PasswordHash,
}

impl PasswordHasher {
    /// A hasher with memory `m_kib` KiB, `t` iterations and `p` lanes.
    pub fn new(m_kib: u32, t: u32, p: u32) -> Result<Self, HashingError> {
        let params = Params::new(m_kib, t, p, Some(32)).map_err(|e| HashingError(e.to_string()))?;
        let mut hasher = Self {
            params,
            dummy: PasswordHash(String::new()),
        };
        // The dummy hash, verified when the username is unknown, costs exactly what a real one does.
        hasher.dummy = hasher.hash(
            b"hallpass dummy password",
            [0x5a; 16],
            &mut HashMemory::default(),
        )?;
        Ok(hasher)
    }

    /// The current memory cost in KiB, which bounds a hashing thread's working memory.
    pub fn memory_kib(&self) -> u32 {
        self.params.m_cost()
    }

    /// Hashes `password` with `salt` (16 random bytes from the caller).
    pub fn hash(
        &self,
        password: &[u8],
        salt: [u8; 16],
        memory: &mut HashMemory,
    ) -> Result<PasswordHash, HashingError> {
        let err = |e: &dyn fmt::Display| HashingError(e.to_string());
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone());
        let mut out = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into_with_memory(
                password,
                &salt,
                out.as_mut(),
                memory.blocks(&self.params),
            )
            .map_err(|e| err(&e))?;
        let phc = phc::PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params).map_err(|e| err(&e))?,
            salt: Some(Salt::new(&salt).map_err(|e| err(&e))?),
            hash: Some(Output::new(out.as_ref()).map_err(|e| err(&e))?),
        };
        Ok(PasswordHash(phc.to_string()))
    }

    /// Checks `password` against `stored` in constant time, with the parameters `stored` names.
    ///
    /// An [unusable](PasswordHash::is_usable) hash is a [`Mismatch`](Verification::Mismatch)
    /// for every password, after the same work as a real check ([`verify_dummy`](Self::verify_dummy)),
    /// so timing does not tell a social-login-only account from a wrong password.
    pub fn verify(
        &self,
        password: &[u8],
        stored: &PasswordHash,
        memory: &mut HashMemory,
    ) -> Result<Verification, HashingError> {
        if !stored.is_usable() {
            self.verify_dummy(password, memory)?;
            return Ok(Verification::Mismatch);
        }
        let err = |e: &dyn fmt::Display| HashingError(e.to_string());
        let parsed = phc::PasswordHash::new(stored.as_phc()).map_err(|e| err(&e))?;
        let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).map_err(|e| err(&e))?;
        let version = parsed
            .version
            .map(Version::try_from)
            .transpose()
            .map_err(|e| err(&e))?
            .unwrap_or_default();
        let params = Params::try_from(&parsed).map_err(|e| err(&e))?;
        let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
            return Err(HashingError("stored hash lacks salt or output".to_owned()));
        };
        let mut out = Zeroizing::new(vec![0u8; expected.len()]);
        Argon2::new(algorithm, version, params.clone())
            .hash_password_into_with_memory(
                password,
                salt.as_ref(),
                &mut out,
                memory.blocks(&params),
            )
            .map_err(|e| err(&e))?;
        if !bool::from(out.as_slice().ct_eq(expected.as_bytes())) {
            return Ok(Verification::Mismatch);
        }
        let current = algorithm == Algorithm::Argon2id
            && version == Version::V0x13
            && params.m_cost() == self.params.m_cost()
            && params.t_cost() == self.params.t_cost()
            && params.p_cost() == self.params.p_cost();
        Ok(Verification::Match {
            needs_rehash: !current,
        })
    }

    /// Spends the same work as [`verify`](Self::verify) on a hash nobody's password matches, so
    /// that "no such user" and "wrong password" cost the same time.
    pub fn verify_dummy(
        &self,
        password: &[u8],
        memory: &mut HashMemory,
    ) -> Result<(), HashingError> {
        self.verify(password, &self.dummy, memory).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_rules_count_characters() {
        assert_eq!(
            Password::parse("short", "password", &[]).unwrap_err().field,
            "password"
        );
        let long = "ß".repeat(129);
        assert!(
            Password::parse(&long, "password", &[])
                .unwrap_err()
                .message
                .contains("at most 128")
        );
    }

    #[test]
    fn common_and_guessable_passwords_are_refused() {
        for weak in [
            "password",
            "password123",
            "12345678",
            "qwertyuiop",
            "iloveyou1",
        ] {
            assert!(Password::parse(weak, "password", &[]).is_err(), "{weak}");
        }
        let err = Password::parse("alice-2024", "password", &["alice-2024"]).unwrap_err();
        assert!(err.message.contains("easy to guess"), "{}", err.message);
        assert!(Password::parse("violet anchor trombone seven", "password", &[]).is_ok());
    }

    #[test]
    fn hash_and_verify() {
        let hasher = PasswordHasher::new(64, 1, 1).unwrap();
        let mut memory = HashMemory::default();
        let hash = hasher.hash(b"violet anchor", [1; 16], &mut memory).unwrap();
        assert!(hash.as_phc().starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert_eq!(
            hasher.verify(b"violet anchor", &hash, &mut memory).unwrap(),
            Verification::Match {
                needs_rehash: false
            }
        );
        assert_eq!(
            hasher.verify(b"violet anchoR", &hash, &mut memory).unwrap(),
            Verification::Mismatch
        );
        assert!(hasher.verify_dummy(b"anything", &mut memory).is_ok());
        assert_eq!(format!("{hash:?}"), "PasswordHash([redacted])");
    }

    #[test]
    fn changed_parameters_ask_for_a_rehash() {
        let old = PasswordHasher::new(64, 1, 1).unwrap();
        let new = PasswordHasher::new(128, 2, 1).unwrap();
        let mut memory = HashMemory::default();
        let hash = old.hash(b"pw", [2; 16], &mut memory).unwrap();
        assert_eq!(
            new.verify(b"pw", &hash, &mut memory).unwrap(),
            Verification::Match { needs_rehash: true }
        );
    }

    #[test]
    fn unusable_hashes_never_verify() {
        let hasher = PasswordHasher::new(64, 1, 1).unwrap();
        let mut memory = HashMemory::default();
        let unusable = PasswordHash::unusable();
        assert!(!unusable.is_usable());
        assert_eq!(unusable.as_phc(), "!");
        // As read back from the store.
        let stored = PasswordHash::from_phc(unusable.as_phc().to_owned());
        assert!(!stored.is_usable());
        assert!(!PasswordHash::from_phc("!locked$argon2id$v=19".to_owned()).is_usable());
        for presented in [&b""[..], b"!", b"hallpass dummy password", b"violet anchor"] {
            assert_eq!(
                hasher.verify(presented, &stored, &mut memory).unwrap(),
                Verification::Mismatch,
                "{presented:?}"
            );
        }
        let real = hasher.hash(b"violet anchor", [3; 16], &mut memory).unwrap();
        assert!(real.is_usable());
        assert_eq!(format!("{unusable:?}"), "PasswordHash([redacted])");
    }

    #[test]
    fn corrupt_hashes_are_errors_not_matches() {
        let hasher = PasswordHasher::new(64, 1, 1).unwrap();
        let stored = PasswordHash::from_phc("$argon2id$garbage".to_owned());
        assert!(
            hasher
                .verify(b"pw", &stored, &mut HashMemory::default())
                .is_err()
        );
    }
}
