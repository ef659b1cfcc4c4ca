//! Settings that parse but do not make sense (together): refused at start with the setting named.

use super::{ConfigError, Settings};

/// Checks what types cannot say: URLs are URLs, limits are at least 1, timeouts are not zero.
pub(super) fn check(settings: &Settings) -> Result<(), ConfigError> {
    let inconsistent = |setting, message: &str| ConfigError::Inconsistent {
        setting,
        message: message.to_owned(),
    };
    let url = url::Url::parse(&settings.public_url)
        .map_err(|e| inconsistent("public_url", &e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(inconsistent(
            "public_url",
            "must be an http:// or https:// URL",
        ));
    }
    for origin in &settings.allowed_origins {
        let parsed = url::Url::parse(origin)
            .map_err(|e| inconsistent("allowed_origins", &format!("{origin}: {e}")))?;
        if parsed.origin().ascii_serialization() != origin.trim_end_matches('/') {
            return Err(inconsistent(
                "allowed_origins",
                &format!("{origin} is not an origin (scheme://host[:port], no path)"),
            ));
        }
    }
    if settings.session_idle_timeout.std().is_zero() || settings.session_lifetime.std().is_zero() {
        return Err(inconsistent(
            "session_idle_timeout",
            "session timeouts must be longer than 0",
        ));
    }
    for (setting, value) in [
        ("request_timeout", settings.request_timeout),
        ("store_timeout", settings.store_timeout),
        ("store_statement_timeout", settings.store_statement_timeout),
    ] {
        if value.std().is_zero() {
            return Err(inconsistent(setting, "must be longer than 0"));
        }
    }
    if settings.max_sessions_per_user == Some(0) {
        return Err(inconsistent(
            "max_sessions_per_user",
            "must be at least 1 (leave it out for no limit)",
        ));
    }
    if settings.max_connections == Some(0) {
        return Err(inconsistent(
            "max_connections",
            "must be at least 1 (leave it out for the default)",
        ));
    }
    if settings.password_hash_queue == 0 || settings.password_hash_threads == Some(0) {
        return Err(inconsistent(
            "password_hash_threads",
            "the hashing pool needs a thread and a queue",
        ));
    }
    super::email::check(&settings.email)
        .map_err(|(setting, message)| inconsistent(setting, &message))?;
    super::factors::check(&settings.factors)
        .map_err(|(setting, message)| inconsistent(setting, &message))?;
    super::providers::check(&settings.providers)
        .map_err(|message| inconsistent("providers", &message))?;
    for (setting, token) in [
        ("metrics_token", &settings.metrics_token),
        ("revocation_feed_token", &settings.revocation_feed_token),
    ] {
        if let Some(problem) = token.as_ref().and_then(|t| t.problem()) {
            return Err(inconsistent(setting, &problem));
        }
    }
    if settings
        .metrics_listen
        .is_some_and(|ops| ops == settings.listen && ops.port() != 0)
    {
        return Err(inconsistent(
            "metrics_listen",
            "must differ from listen (it serves metrics without credentials)",
        ));
    }
    for proxy in &settings.trusted_proxies {
        proxy.parse::<std::net::IpAddr>().map_err(|_| {
            inconsistent("trusted_proxies", &format!("{proxy} is not an IP address"))
        })?;
    }
    Ok(())
}
