//! Layering: defaults → TOML file → `HALLPASS_*` environment → flags.

use std::{collections::BTreeSet, net::SocketAddr, path::Path};

use figment::{
    Figment,
    providers::{Format, Serialized, Toml},
    value::{Dict, Map, Value},
};
use serde::Serialize;

use super::{ConfigError, Settings};

/// Settings given as command-line flags; they win over everything else.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    /// `--listen`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// `--public-url`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// `--database-url`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// `--redis-url`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis_url: Option<String>,
}

const ENV_PREFIX: &str = "HALLPASS_";
/// Settings that are tables; `HALLPASS_ARGON2_M_COST` sets `argon2.m_cost`.
const TABLES: [&str; 4] = ["argon2", "rate_limit", "email", "factors"];

/// Reads the settings. `env` is the process environment (passed in so tests need not touch it).
/// Returns the settings and warnings about `HALLPASS_*` variables that name no setting.
pub fn load(
    config_file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
    overrides: &Overrides,
) -> Result<(Settings, Vec<String>), ConfigError> {
    let (env_values, warnings) = environment(env);
    let mut figment = Figment::from(Serialized::defaults(Settings::default()));
    if let Some(file) = config_file {
        figment = figment.merge(Toml::file_exact(file));
    }
    let settings: Settings = figment
        .merge(Serialized::defaults(env_values))
        .merge(Serialized::defaults(overrides))
        .extract()
        .map_err(Box::new)?;
    super::check::check(&settings)?;
    Ok((settings, warnings))
}

fn known_keys() -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    if let Ok(Value::Dict(_, dict)) = Value::serialize(Settings::default()) {
        for (key, value) in dict {
            if let Value::Dict(_, table) = value {
                keys.extend(table.keys().map(|sub| format!("{key}.{sub}")));
            }
            keys.insert(key);
        }
    }
    // Optional settings serialise to nothing when unset; name them explicitly.
    keys.extend(
        [
            "secret_key_file",
            "redis_url",
            "max_connections",
            "max_sessions_per_user",
            "audience",
            "password_hash_threads",
            "metrics_listen",
            "metrics_token",
            "revocation_feed_token",
            "email.smtp_url",
            "email.smtp_username",
            "email.smtp_password",
            "email.outbox_dir",
        ]
        .map(String::from),
    );
    keys
}

fn environment(env: impl IntoIterator<Item = (String, String)>) -> (Dict, Vec<String>) {
    let known = known_keys();
    let mut values = Dict::new();
    let mut warnings = Vec::new();
    for (name, raw) in env {
        let Some(key) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        // The test harness's own variables share the prefix.
        if key.starts_with("TEST_") {
            continue;
        }
        let key = key.to_ascii_lowercase();
        // `HALLPASS_PROVIDERS_KAKAO_CLIENT_SECRET` sets `providers.kakao.client_secret`.
        if let Some((provider, field)) = super::providers::env_key(&key) {
            let value = if field == "scopes" {
                Value::from(
                    raw.split(',')
                        .map(|s| s.trim().to_owned())
                        .collect::<Vec<_>>(),
                )
            } else {
                raw.parse::<Value>()
                    .ok()
                    .filter(|_| field == "link_verified_email")
                    .unwrap_or_else(|| Value::from(raw.clone()))
            };
            let providers = values
                .entry("providers".to_owned())
                .or_insert_with(|| Value::from(Map::<String, Value>::new()));
            if let Value::Dict(_, providers) = providers {
                let table = providers
                    .entry(provider)
                    .or_insert_with(|| Value::from(Map::<String, Value>::new()));
                if let Value::Dict(_, table) = table {
                    table.insert(field.to_owned(), value);
                }
            }
            continue;
        }
        let path = TABLES
            .iter()
            .find_map(|table| {
                key.strip_prefix(table)
                    .and_then(|rest| rest.strip_prefix('_'))
                    .map(|rest| format!("{table}.{rest}"))
            })
            .unwrap_or_else(|| key.clone());
        if !known.contains(&path) {
            warnings.push(format!("{name} names no setting and is ignored"));
            continue;
        }
        let value = raw
            .parse::<Value>()
            .unwrap_or_else(|_| Value::from(raw.clone()));
        match path.split_once('.') {
            Some((table, sub)) => {
                let entry = values
                    .entry(table.to_owned())
                    .or_insert_with(|| Value::from(Map::<String, Value>::new()));
                if let Value::Dict(_, dict) = entry {
                    dict.insert(sub.to_owned(), value);
                }
            }
            None => {
                values.insert(path, value);
            }
        }
    }
    (values, warnings)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::config::{ConfigDuration, SessionLimitPolicy};

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn providers_come_from_the_file_and_their_secrets_from_the_environment() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(
            file,
            "[providers.kakao]\nclient_id = \"rest-key\"\n[providers.corp]\nissuer = \"https://id.example.com\"\nclient_id = \"hallpass\"\nscopes = [\"openid\", \"email\"]"
        )
        .unwrap();
        let (s, warnings) = load(
            Some(file.path()),
            env(&[
                ("HALLPASS_PROVIDERS_KAKAO_CLIENT_SECRET", "s3cret"),
                ("HALLPASS_PROVIDERS_CORP_LINK_VERIFIED_EMAIL", "true"),
            ]),
            &Overrides::default(),
        )
        .unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let kakao = &s.providers["kakao"];
        assert_eq!(kakao.client_id, "rest-key");
        assert_eq!(kakao.client_secret.as_deref(), Some("s3cret"));
        let corp = &s.providers["corp"];
        assert_eq!(corp.issuer.as_deref(), Some("https://id.example.com"));
        assert!(corp.link_verified_email);
        assert_eq!(
            corp.scopes.as_deref(),
            Some(&["openid".to_owned(), "email".to_owned()][..])
        );
        let err = load(
            None,
            env(&[("HALLPASS_PROVIDERS_CORP_CLIENT_ID", "x")]),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("issuer is required"), "{err}");
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let (s, warnings) = load(None, env(&[]), &Overrides::default()).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.public_url, "http://localhost:8080");
        assert_eq!(s.database_url, "sqlite://hallpass.db");
        assert_eq!(s.session_idle_timeout, ConfigDuration::hours(2));
        assert_eq!(s.session_lifetime, ConfigDuration::days(30));
        assert_eq!(s.argon2.m_cost, 19_456);
        assert_eq!(
            s.secret_key_path(),
            std::path::PathBuf::from("hallpass.key")
        );
    }

    #[test]
    fn file_then_env_then_flags() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(
            file,
            "public_url = \"https://file.example\"\naccess_token_ttl = \"5m\"\nmax_sessions_per_user = 3\n\
             session_limit_policy = \"reject_new\"\n[argon2]\nm_cost = 1024"
        )
        .unwrap();
        let vars = env(&[
            ("HALLPASS_ACCESS_TOKEN_TTL", "7m"),
            ("HALLPASS_PUBLIC_URL", "https://env.example"),
            (
                "HALLPASS_ALLOWED_ORIGINS",
                "https://a.example, https://b.example",
            ),
            ("HALLPASS_ARGON2_T_COST", "3"),
            ("HALLPASS_CLOCK_SKEW", "0"),
            ("HALLPASS_NO_SUCH_THING", "1"),
            ("HALLPASS_TEST_POSTGRES_URL", "ignored"),
            ("PATH", "/bin"),
        ]);
        let flags = Overrides {
            public_url: Some("https://flag.example".to_owned()),
            ..Overrides::default()
        };
        let (s, warnings) = load(Some(file.path()), vars, &flags).unwrap();
        assert_eq!(s.access_token_ttl, ConfigDuration::minutes(7));
        assert_eq!(s.public_url, "https://flag.example");
        assert_eq!(
            s.allowed_origins,
            ["https://a.example", "https://b.example"]
        );
        assert_eq!((s.argon2.m_cost, s.argon2.t_cost), (1024, 3));
        assert_eq!(s.clock_skew, ConfigDuration::seconds(0));
        assert_eq!(s.max_sessions_per_user, Some(3));
        assert_eq!(s.session_limit_policy, SessionLimitPolicy::RejectNew);
        assert_eq!(
            warnings,
            ["HALLPASS_NO_SUCH_THING names no setting and is ignored"]
        );
    }

    #[test]
    fn bad_values_name_the_setting() {
        let err = load(
            None,
            env(&[("HALLPASS_SESSION_LIFETIME", "forever")]),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("session_lifetime"), "{err}");
        let err = load(
            None,
            env(&[("HALLPASS_PUBLIC_URL", "ftp://x")]),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("public_url"), "{err}");
        let err = load(
            None,
            env(&[("HALLPASS_ALLOWED_ORIGINS", "https://a.example/path")]),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("allowed_origins"), "{err}");
    }

    #[test]
    fn zero_timeouts_are_refused_and_durability_is_read() {
        for name in [
            "REQUEST_TIMEOUT",
            "STORE_TIMEOUT",
            "STORE_STATEMENT_TIMEOUT",
        ] {
            let variable = format!("HALLPASS_{name}");
            let err = load(None, env(&[(&variable, "0s")]), &Overrides::default()).unwrap_err();
            assert!(
                err.to_string().starts_with(&name.to_ascii_lowercase()),
                "{err}"
            );
        }
        let (s, _) = load(
            None,
            env(&[("HALLPASS_SQLITE_SYNCHRONOUS", "normal")]),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(
            s.sqlite_synchronous,
            crate::config::SqliteSynchronous::Normal
        );
        let (s, _) = load(None, env(&[]), &Overrides::default()).unwrap();
        assert_eq!(s.sqlite_synchronous, crate::config::SqliteSynchronous::Full);
    }

    #[test]
    fn unknown_keys_in_the_file_are_errors() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "listne = \"127.0.0.1:1\"").unwrap();
        let err = load(Some(file.path()), env(&[]), &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("listne"), "{err}");
    }

    #[test]
    fn key_file_sits_beside_the_sqlite_database() {
        let s = Settings {
            database_url: "sqlite:///var/lib/hallpass/auth.db?mode=rwc".to_owned(),
            ..Settings::default()
        };
        assert_eq!(
            s.secret_key_path(),
            std::path::PathBuf::from("/var/lib/hallpass/hallpass.key")
        );
    }
}
