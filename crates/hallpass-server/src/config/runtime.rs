//! The settings as the request path reads them, derived once from the validated [`Settings`].

use std::net::IpAddr;

use hallpass_core::{
    csrf::OriginPolicy,
    session::{LimitPolicy, SessionPolicy},
    user::{Role, parse_roles},
};

use super::{OpsAccess, SessionLimitPolicy, Settings};

/// The settings the request path reads, in the form it reads them.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The public URL without a trailing slash.
    pub public_url: String,
    /// Whether cookies get `Secure` and the `__Host-` prefix (public URL is https).
    pub secure_cookies: bool,
    /// Expiry and limits of sessions.
    pub session_policy: SessionPolicy,
    /// Which origins may make cookie-authenticated writes.
    pub origins: OriginPolicy,
    /// Other origins whose pages may call the API with credentials (CORS), as `scheme://host[:port]`.
    pub allowed_origins: Vec<String>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// Tolerated clock difference.
    pub clock_skew: time::Duration,
    /// The longest a request may take.
    pub request_timeout: std::time::Duration,
    /// Who may read `/metrics` on the public listener; `None`: nobody (it is not served there).
    pub metrics_access: Option<OpsAccess>,
    /// Who may read the revocation feed; `None`: anyone.
    pub revocation_feed_access: Option<OpsAccess>,
    /// Roles whose powers need a second factor, and the grace to enroll one.
    pub factor_policy: FactorPolicy,
}

/// `[factors]` as the request path reads it.
#[derive(Debug, Clone, Default)]
pub struct FactorPolicy {
    /// Roles that need a confirmed second factor.
    pub required_for: Vec<Role>,
    /// How long after the rule first applied to someone they may go without one.
    pub grace: time::Duration,
}

impl ServerConfig {
    /// The runtime view of validated settings.
    pub fn from_settings(settings: &Settings) -> Self {
        let public_url = settings.public_url.trim_end_matches('/').to_owned();
        let own_origin = url::Url::parse(&public_url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_else(|_| public_url.clone());
        Self {
            secure_cookies: public_url.starts_with("https://"),
            session_policy: SessionPolicy {
                idle_timeout: settings.session_idle_timeout.time(),
                lifetime: settings.session_lifetime.time(),
                max_per_user: settings.max_sessions_per_user,
                limit_policy: match settings.session_limit_policy {
                    SessionLimitPolicy::EvictOldest => LimitPolicy::EvictOldest,
                    SessionLimitPolicy::RejectNew => LimitPolicy::RejectNew,
                },
            },
            origins: OriginPolicy::new(&own_origin, &settings.allowed_origins),
            allowed_origins: settings
                .allowed_origins
                .iter()
                .map(|o| o.trim_end_matches('/').to_ascii_lowercase())
                .collect(),
            clock_skew: settings.clock_skew.time(),
            request_timeout: settings.request_timeout.std(),
            metrics_access: settings.metrics_token.as_ref().map(OpsAccess::new),
            revocation_feed_access: settings.revocation_feed_token.as_ref().map(OpsAccess::new),
            factor_policy: FactorPolicy {
                // Checked at start-up (config/factors.rs): every name parses.
                required_for: parse_roles(
                    settings
                        .factors
                        .required_for_roles
                        .iter()
                        .map(String::as_str),
                )
                .unwrap_or_default(),
                grace: settings.factors.enrollment_grace.time(),
            },
            trusted_proxies: settings
                .trusted_proxies
                .iter()
                .filter_map(|p| p.parse().ok())
                .collect(),
            public_url,
        }
    }
}
