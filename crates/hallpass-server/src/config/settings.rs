//! Every setting, as read, with its default.

use std::{collections::BTreeMap, net::SocketAddr, path::PathBuf};

use serde::{Deserialize, Serialize};

use super::{ConfigDuration, EmailSettings, OpsToken, ProviderSettings};
use crate::infra::client_key::Ipv6Prefix;

/// Every setting, as read. [`load`](super::load) checks it, and
/// [`ServerConfig::from_settings`](super::ServerConfig::from_settings) turns it into what the
/// request path reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// How long a client may take to send a request's headers. HTTP/1 starts this clock again
    /// when a kept-alive connection goes idle, so it also bounds the wait for the next request.
    /// `0` turns it off.
    pub header_read_timeout: ConfigDuration,
    /// The longest a connection may stay open with no request being handled; `0` turns it off.
    pub keep_alive_timeout: ConfigDuration,
    /// Open client connections at most; beyond it new ones are closed at once. Default: the
    /// open-file limit less room for the database, Redis and files (see `http::serve`).
    pub max_connections: Option<usize>,
    /// Open connections from one client address (an IPv6 client: its `rate_limit.ipv6_prefix`
    /// network) at most (never more than half of `max_connections`; trusted proxies are
    /// exempt); `0` turns it off.
    pub max_connections_per_ip: usize,
    /// On SIGTERM, how long to keep serving, with `/readyz` answering 503, before refusing new
    /// connections and draining (so a load balancer stops sending first).
    pub shutdown_delay: ConfigDuration,
    /// The URL users reach hallpass at: the issuer, and `https` turns on `Secure` cookies.
    pub public_url: String,
    /// `sqlite://FILE` or `postgres://…`.
    pub database_url: String,
    /// The shared secret; generated (0600) if absent. Default: `hallpass.key` beside the SQLite
    /// database, or in the working directory.
    pub secret_key_file: Option<PathBuf>,
    /// Redis for the revocation bus and shared rate limits (used from the scale-out release on).
    pub redis_url: Option<String>,
    /// Access token lifetime.
    pub access_token_ttl: ConfigDuration,
    /// Refresh token family absolute lifetime.
    pub refresh_token_ttl: ConfigDuration,
    /// Window in which a replayed refresh token gets the same successor.
    pub refresh_grace: ConfigDuration,
    /// Sliding inactivity timeout of a session.
    pub session_idle_timeout: ConfigDuration,
    /// Absolute lifetime of a session.
    pub session_lifetime: ConfigDuration,
    /// Live sessions allowed per user; none means unlimited.
    pub max_sessions_per_user: Option<u32>,
    /// `evict_oldest` or `reject_new`.
    pub session_limit_policy: SessionLimitPolicy,
    /// Signing algorithm of access tokens.
    pub signing_alg: String,
    /// How often signing keys rotate.
    pub key_rotation_interval: ConfigDuration,
    /// Origins besides the public URL's that may make credentialed requests.
    #[serde(deserialize_with = "super::de::string_or_list")]
    pub allowed_origins: Vec<String>,
    /// The `aud` of access tokens; default the public URL.
    pub audience: Option<String>,
    /// Tolerance for clocks that disagree.
    pub clock_skew: ConfigDuration,
    /// Password hashing cost.
    pub argon2: Argon2Settings,
    /// Attempts allowed before login, token and signup are refused for a while.
    pub rate_limit: RateLimitSettings,
    /// Proxies whose `X-Forwarded-For` is believed (their own address is never the client's).
    #[serde(deserialize_with = "super::de::string_or_list")]
    pub trusted_proxies: Vec<String>,
    /// How long a node may answer for a session from memory before reading it again. Writes made
    /// through this node invalidate at once; this bounds how late another node's revocation is
    /// seen. `0` turns the cache off.
    pub session_cache_ttl: ConfigDuration,
    /// Sessions held in memory at most.
    pub session_cache_capacity: usize,
    /// Session event streams (`GET /v1/session/events`) one session may hold open at once;
    /// more are refused with 429 `rate_limited`. Pages share one stream per browser, so a few
    /// is plenty. `0` turns this cap off.
    pub max_event_streams_per_session: u32,
    /// Session event streams one user may hold open at once, over all their sessions; more are
    /// refused with 429 `rate_limited`. `0` turns this cap off.
    pub max_event_streams_per_user: u32,
    /// Session event streams this node holds open at once; more are refused with 503
    /// `overloaded`. `0` turns this cap off.
    pub max_event_streams: u32,
    /// How often a node re-reads recent revocations, bounding how late a lost bus message makes one.
    pub reconcile_interval: ConfigDuration,
    /// The LISTEN/NOTIFY or Redis channel revocations travel on.
    pub bus_channel: String,
    /// Prefix of the keys hallpass keeps in Redis (shared rate limits).
    pub redis_key_prefix: String,
    /// Verified access tokens held in memory at most (0 turns the cache off).
    pub verified_token_cache_capacity: usize,
    /// Threads that hash passwords; default the number of cores.
    pub password_hash_threads: Option<usize>,
    /// Hashes that may wait for a thread before new ones are refused with 503.
    pub password_hash_queue: usize,
    /// The longest a request may take before it is answered 503 `timeout`; well below a
    /// proxy's own timeout (nginx waits 60 s), so clients get an answer rather than a reset.
    pub request_timeout: ConfigDuration,
    /// The longest a request waits for a database connection (opening one included) before it
    /// is answered 503 `store_unavailable`.
    pub store_timeout: ConfigDuration,
    /// The longest one database statement may run (PostgreSQL `statement_timeout`, SQLite's
    /// busy timeout).
    pub store_statement_timeout: ConfigDuration,
    /// While the database is unreachable, how old a session this node has in memory may be and
    /// still be served (revocations from the bus still apply). `0s` serves nothing stale.
    pub store_outage_grace: ConfigDuration,
    /// SQLite durability: `full` (an acknowledged write is on disk) or `normal` (faster; a power
    /// loss may undo the last acknowledged writes).
    pub sqlite_synchronous: SqliteSynchronous,
    /// A second address serving `/metrics`, `/healthz` and `/readyz` only, without credentials
    /// (a private interface or loopback, for the metrics scraper). When it is set, `/metrics` is
    /// not served on `listen` unless `metrics_token` is set too.
    pub metrics_listen: Option<SocketAddr>,
    /// A bearer token that `/metrics` on `listen` requires. With neither this nor
    /// `metrics_listen`, `/metrics` is not served (404).
    pub metrics_token: Option<OpsToken>,
    /// A bearer token that `GET /v1/revocations` requires; unset, the feed is public (it names
    /// session ids and hashed user ids, never credentials).
    pub revocation_feed_token: Option<OpsToken>,
    /// `text` or `json`.
    pub log_format: LogFormat,
    /// Outgoing mail and the emailed flows (`[email]`).
    pub email: EmailSettings,
    /// The second-factor policy (`[factors]`).
    pub factors: super::FactorSettings,
    /// Social login providers by the URL segment that names them (`[providers.kakao]`).
    pub providers: BTreeMap<String, ProviderSettings>,
}

/// What a login past `max_sessions_per_user` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionLimitPolicy {
    /// Revoke the oldest sessions to make room.
    EvictOldest,
    /// Refuse the login with 409 `session_limit_reached`.
    RejectNew,
}

/// SQLite's `synchronous` setting (WAL mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SqliteSynchronous {
    /// fsync before a write is acknowledged.
    Full,
    /// fsync at checkpoints only: an opt-in trade of durability for write speed.
    Normal,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable.
    Text,
    /// One JSON object per line.
    Json,
}

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Argon2Settings {
    /// Memory in KiB.
    pub m_cost: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl Default for Argon2Settings {
    fn default() -> Self {
        Self {
            m_cost: 19_456,
            t_cost: 2,
            p_cost: 1,
        }
    }
}

/// Abuse limits on login, token, signup and board posts; 0 turns a limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitSettings {
    /// Attempts per client address per minute.
    pub per_ip_per_minute: u32,
    /// Consecutive failures on one account before it is locked for a growing time.
    pub account_failures_before_lockout: u32,
    /// The longest an account lockout lasts.
    pub max_lockout: ConfigDuration,
    /// Leading bits of an IPv6 address that name one client for every per-address count (these
    /// limits and `max_connections_per_ip`), 32 to 128: a subscriber picks addresses at will
    /// inside their /64. IPv4-mapped IPv6 addresses count as the IPv4 address.
    pub ipv6_prefix: Ipv6Prefix,
    /// Posts one account may publish on the demo board per minute (over every node).
    pub posts_per_minute: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            per_ip_per_minute: 30,
            account_failures_before_lockout: 5,
            max_lockout: ConfigDuration::minutes(15),
            ipv6_prefix: Ipv6Prefix::DEFAULT,
            posts_per_minute: 10,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            header_read_timeout: ConfigDuration::seconds(10),
            keep_alive_timeout: ConfigDuration::seconds(60),
            max_connections: None,
            max_connections_per_ip: 256,
            shutdown_delay: ConfigDuration::seconds(0),
            public_url: "http://localhost:8080".to_owned(),
            database_url: "sqlite://hallpass.db".to_owned(),
            secret_key_file: None,
            redis_url: None,
            access_token_ttl: ConfigDuration::minutes(15),
            refresh_token_ttl: ConfigDuration::days(30),
            refresh_grace: ConfigDuration::seconds(10),
            session_idle_timeout: ConfigDuration::hours(2),
            session_lifetime: ConfigDuration::days(30),
            max_sessions_per_user: None,
            session_limit_policy: SessionLimitPolicy::EvictOldest,
            signing_alg: "EdDSA".to_owned(),
            key_rotation_interval: ConfigDuration::days(30),
            allowed_origins: Vec::new(),
            audience: None,
            clock_skew: ConfigDuration::seconds(30),
            argon2: Argon2Settings::default(),
            rate_limit: RateLimitSettings::default(),
            trusted_proxies: Vec::new(),
            session_cache_ttl: ConfigDuration::seconds(5),
            session_cache_capacity: 100_000,
            max_event_streams_per_session: 4,
            max_event_streams_per_user: 16,
            max_event_streams: 10_000,
            reconcile_interval: ConfigDuration::seconds(5),
            bus_channel: "hallpass_revocations".to_owned(),
            redis_key_prefix: "hallpass:".to_owned(),
            verified_token_cache_capacity: 100_000,
            password_hash_threads: None,
            password_hash_queue: 64,
            request_timeout: ConfigDuration::seconds(10),
            store_timeout: ConfigDuration::seconds(2),
            store_statement_timeout: ConfigDuration::seconds(5),
            store_outage_grace: ConfigDuration::minutes(5),
            sqlite_synchronous: SqliteSynchronous::Full,
            metrics_listen: None,
            metrics_token: None,
            revocation_feed_token: None,
            log_format: LogFormat::Text,
            email: EmailSettings::default(),
            factors: super::FactorSettings::default(),
            providers: BTreeMap::new(),
        }
    }
}

impl Settings {
    /// How the store waits and how durable SQLite's writes are.
    pub fn store_options(&self) -> hallpass_store::StoreOptions {
        hallpass_store::StoreOptions {
            acquire_timeout: self.store_timeout.std(),
            statement_timeout: self.store_statement_timeout.std(),
            sqlite_durability: match self.sqlite_synchronous {
                SqliteSynchronous::Full => hallpass_store::SqliteDurability::Full,
                SqliteSynchronous::Normal => hallpass_store::SqliteDurability::Normal,
            },
        }
    }

    /// Where the secret key lives: the configured file, else `hallpass.key` beside a SQLite
    /// database file, else in the working directory.
    pub fn secret_key_path(&self) -> PathBuf {
        match &self.secret_key_file {
            Some(path) => path.clone(),
            None => self.beside_database("hallpass.key"),
        }
    }

    /// Where undelivered mail is written with no SMTP server: `email.outbox_dir`, else `mail/`
    /// beside a SQLite database file, else in the working directory.
    pub fn mail_dir(&self) -> PathBuf {
        match &self.email.outbox_dir {
            Some(path) => path.clone(),
            None => self.beside_database("mail"),
        }
    }

    /// `name` in the directory of a SQLite database file, else in the working directory.
    fn beside_database(&self, name: &str) -> PathBuf {
        let sqlite_file = self
            .database_url
            .strip_prefix("sqlite://")
            .or_else(|| self.database_url.strip_prefix("sqlite:"))
            .map(|rest| rest.split('?').next().unwrap_or(rest))
            .filter(|file| !file.is_empty() && *file != ":memory:");
        match sqlite_file.and_then(|file| PathBuf::from(file).parent().map(PathBuf::from)) {
            Some(dir) => dir.join(name),
            None => PathBuf::from(name),
        }
    }
}
