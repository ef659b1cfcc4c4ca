//! Sessions: the opaque token a client holds, the hash the store keeps, and the expiry rules.

use std::fmt;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::{factor::amr::Amr, user::UserId};

/// A session's public handle, shown in session lists and used to revoke one. Not a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SessionId(pub Uuid);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

const SESSION_TOKEN_PREFIX: &str = "hp_st_";
/// 32 random bytes in unpadded base64url.
const SESSION_TOKEN_BODY_LEN: usize = 43;

/// The secret a cookie carries: `hp_st_` and 256 random bits. The prefix lets secret scanners
/// find leaked ones. Only its [`TokenHash`] is ever stored.
#[derive(Clone)]
pub struct SessionToken(Zeroizing<String>);

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken([redacted])")
    }
}

impl SessionToken {
    /// A token from 32 bytes of the operating system's randomness.
    pub fn from_random(bytes: [u8; 32]) -> Self {
        let mut token = String::with_capacity(SESSION_TOKEN_PREFIX.len() + SESSION_TOKEN_BODY_LEN);
        token.push_str(SESSION_TOKEN_PREFIX);
        URL_SAFE_NO_PAD.encode_string(bytes, &mut token);
        Self(Zeroizing::new(token))
    }

    /// Parses a presented token. Anything but the exact shape is refused, so that no lookup is
    /// ever made for a malformed value.
    pub fn parse(input: &str) -> Option<Self> {
        let body = input.strip_prefix(SESSION_TOKEN_PREFIX)?;
        let well_formed = body.len() == SESSION_TOKEN_BODY_LEN
            && URL_SAFE_NO_PAD
                .decode(body)
                .is_ok_and(|bytes| bytes.len() == 32);
        well_formed.then(|| Self(Zeroizing::new(input.to_owned())))
    }

    /// The token itself, for the cookie.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// SHA-256 of the token, the only form the store sees. A 256-bit random token needs no salt
    /// or slow hash: guessing it is hopeless either way.
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

/// SHA-256 of a session token.
#[derive(Clone, Copy, Eq)]
pub struct TokenHash(pub [u8; 32]);

impl PartialEq for TokenHash {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash([redacted])")
    }
}

/// How the client proves it holds the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionKind {
    /// A session cookie.
    Cookie,
    /// Access and refresh tokens.
    Token,
}

impl SessionKind {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cookie => "cookie",
            Self::Token => "token",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "cookie" => Some(Self::Cookie),
            "token" => Some(Self::Token),
            _ => None,
        }
    }
}

/// A session as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// Public handle.
    pub id: SessionId,
    /// Whose session it is.
    pub user_id: UserId,
    /// Cookie or token.
    pub kind: SessionKind,
    /// SHA-256 of the session token.
    pub token_hash: TokenHash,
    /// Login time.
    pub created_at: OffsetDateTime,
    /// Last activity the store knows of (written at most every [`SessionPolicy::touch_interval`]).
    pub last_seen_at: OffsetDateTime,
    /// The absolute end, whatever the activity.
    pub absolute_expires_at: OffsetDateTime,
    /// `User-Agent` at login, truncated.
    pub user_agent: Option<String>,
    /// Client address at login.
    pub ip: Option<String>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<OffsetDateTime>,
    /// The refresh-token family of a token session; `None` for cookie sessions.
    pub refresh: Option<RefreshFamily>,
    /// How the sign-in that opened it was made (RFC 8176 methods).
    pub amr: Amr,
    /// When the user last proved who they are for it: the sign-in, or a later re-authentication.
    pub auth_time: OffsetDateTime,
}

/// A token session's refresh state: the per-session salt of its tokens and the generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshFamily {
    /// Random per-session salt, mixed into every token's MAC.
    pub salt: [u8; 16],
    /// The current generation and when it became current.
    pub state: RefreshState,
}

/// The refresh state of a session, as stored: which generation of its refresh token is current.
///
/// It lives here, beside [`RefreshFamily`], and not in `token::refresh` (which re-exports it), so
/// that the session and the token modules do not import each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshState {
    /// The current generation `n`.
    pub generation: u64,
    /// When `n` became current (the last rotation, or the login).
    pub rotated_at: OffsetDateTime,
}

/// Session lifetime rules from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Inactivity after which a session ends (sliding).
    pub idle_timeout: Duration,
    /// Age after which a session ends whatever its activity.
    pub lifetime: Duration,
    /// At most this many live sessions per user, if set.
    pub max_per_user: Option<u32>,
    /// What a login beyond the limit does.
    pub limit_policy: LimitPolicy,
}

/// What happens when a login would exceed `max_sessions_per_user`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitPolicy {
    /// The oldest live sessions are revoked to make room.
    EvictOldest,
    /// The login is refused.
    RejectNew,
}

impl SessionPolicy {
    /// When `session` ends if nothing else happens: the earlier of idle and absolute expiry.
    /// Token sessions have no idle expiry: their family lives until its absolute end (an app
    /// closed for a night still refreshes in the morning).
    pub fn expires_at(&self, session: &Session) -> OffsetDateTime {
        match session.kind {
            SessionKind::Cookie => {
                (session.last_seen_at + self.idle_timeout).min(session.absolute_expires_at)
            }
            SessionKind::Token => session.absolute_expires_at,
        }
    }

    /// Whether `session` still authenticates at `now`.
    pub fn is_live(&self, session: &Session, now: OffsetDateTime) -> bool {
        session.revoked_at.is_none() && now < self.expires_at(session)
    }

    /// How stale the stored `last_seen_at` may get: `min(60 s, idle_timeout / 10)`, so the idle
    /// expiry is off by at most a tenth while steady traffic costs one write a minute at most.
    pub fn touch_interval(&self) -> Duration {
        std::cmp::min(self.idle_timeout / 10_i32, Duration::minutes(1))
    }

    /// Whether a request at `now` should write the new activity time to the store.
    pub fn touch_due(&self, session: &Session, now: OffsetDateTime) -> bool {
        now - session.last_seen_at >= self.touch_interval()
    }

    /// The limit to enforce at login, if any.
    pub fn limit(&self) -> Option<SessionLimit> {
        self.max_per_user.map(|max| SessionLimit {
            max,
            policy: self.limit_policy,
        })
    }

    /// Activity older than this at `now` means the session is idle-expired.
    pub fn idle_cutoff(&self, now: OffsetDateTime) -> OffsetDateTime {
        now - self.idle_timeout
    }
}

/// `max_sessions_per_user` and its policy, as the store enforces it atomically with the insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimit {
    /// Live sessions allowed per user.
    pub max: u32,
    /// What to do when a new one would exceed `max`.
    pub policy: LimitPolicy,
}

/// Truncates a `User-Agent` for storage: at most 256 characters, control characters dropped.
pub fn clean_user_agent(raw: &str) -> String {
    raw.chars().filter(|c| !c.is_control()).take(256).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::factor::amr::Method;

    fn session(now: OffsetDateTime) -> Session {
        Session {
            id: SessionId(Uuid::nil()),
            user_id: UserId(Uuid::nil()),
            kind: SessionKind::Cookie,
            token_hash: SessionToken::from_random([3; 32]).hash(),
            created_at: now,
            last_seen_at: now,
            absolute_expires_at: now + Duration::days(30),
            user_agent: None,
            ip: None,
            revoked_at: None,
            refresh: None,
            amr: Amr::one(Method::Pwd),
            auth_time: now,
        }
    }

    fn policy() -> SessionPolicy {
        SessionPolicy {
            idle_timeout: Duration::hours(2),
            lifetime: Duration::days(30),
            max_per_user: None,
            limit_policy: LimitPolicy::EvictOldest,
        }
    }

    #[test]
    fn tokens_have_prefix_and_256_bits_and_hide_in_debug() {
        let token = SessionToken::from_random([0xab; 32]);
        assert!(token.expose().starts_with("hp_st_"));
        assert_eq!(token.expose().len(), 6 + 43);
        assert_eq!(format!("{token:?}"), "SessionToken([redacted])");
        let parsed = SessionToken::parse(token.expose()).unwrap();
        assert_eq!(parsed.hash(), token.hash());
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let good = SessionToken::from_random([1; 32]);
        for bad in [
            "",
            "hp_st_",
            &good.expose()[6..],
            &format!("{}=", good.expose()),
            &good.expose().replace("hp_st_", "hp_rt_"),
            &format!("{}A", good.expose()),
            &format!("hp_st_{}", "!".repeat(43)),
        ] {
            assert!(SessionToken::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn idle_and_absolute_expiry() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(1000);
        let policy = policy();
        let mut s = session(now);
        assert!(policy.is_live(&s, now + Duration::minutes(119)));
        assert!(!policy.is_live(&s, now + Duration::minutes(120)));
        s.last_seen_at = now + Duration::days(29) + Duration::hours(23);
        assert!(policy.is_live(&s, now + Duration::days(29) + Duration::hours(23)));
        assert!(!policy.is_live(&s, now + Duration::days(30)));
        s.revoked_at = Some(now);
        assert!(!policy.is_live(&s, now + Duration::days(29) + Duration::hours(23)));
    }

    #[test]
    fn touches_are_throttled() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let s = session(now);
        let policy = policy();
        assert_eq!(policy.touch_interval(), Duration::minutes(1));
        assert!(!policy.touch_due(&s, now + Duration::seconds(59)));
        assert!(policy.touch_due(&s, now + Duration::seconds(60)));
        let short = SessionPolicy {
            idle_timeout: Duration::seconds(100),
            ..policy
        };
        assert_eq!(short.touch_interval(), Duration::seconds(10));
    }

    #[test]
    fn user_agents_are_cleaned() {
        assert_eq!(clean_user_agent("a\nb\u{7}c"), "abc");
        assert_eq!(clean_user_agent(&"x".repeat(1000)).len(), 256);
    }
}
