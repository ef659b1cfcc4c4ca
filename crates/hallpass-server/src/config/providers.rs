//! Social login providers (docs/design.md §3): one TOML table per provider, named by its URL segment
//! (`/v1/oauth/{name}/…`). `kakao`, `google` and `github` are presets; any other name is a
//! generic OpenID Connect provider found by its `issuer`'s discovery document.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One provider's settings, as read. `Debug` never shows the client secret.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProviderSettings {
    /// The OpenID issuer; presets know theirs, any other provider needs it.
    pub issuer: Option<String>,
    /// The client id registered with the provider.
    pub client_id: String,
    /// The client secret, best given as `HALLPASS_PROVIDERS_<NAME>_CLIENT_SECRET`.
    pub client_secret: Option<String>,
    /// Scopes to ask for; presets have sensible ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// The name on the login button; default from the preset or the table's name.
    pub display_name: Option<String>,
    /// Link a first login to an existing account with the same email, when the provider says
    /// the address is verified. Off by default: an email match alone is not proof of ownership
    /// at every provider.
    pub link_verified_email: bool,
    /// GitHub only (GitHub Enterprise Server): the authorization endpoint, default
    /// `https://github.com/login/oauth/authorize`.
    pub authorization_endpoint: Option<String>,
    /// GitHub only: the token endpoint, default `https://github.com/login/oauth/access_token`.
    pub token_endpoint: Option<String>,
    /// GitHub only: the REST API, default `https://api.github.com`.
    pub api_url: Option<String>,
}

impl std::fmt::Debug for ProviderSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("scopes", &self.scopes)
            .field("display_name", &self.display_name)
            .field("link_verified_email", &self.link_verified_email)
            .field("authorization_endpoint", &self.authorization_endpoint)
            .field("token_endpoint", &self.token_endpoint)
            .field("api_url", &self.api_url)
            .finish()
    }
}

/// The fields a `HALLPASS_PROVIDERS_<NAME>_<FIELD>` variable may set.
const FIELDS: [&str; 9] = [
    "client_secret",
    "client_id",
    "issuer",
    "scopes",
    "display_name",
    "link_verified_email",
    "authorization_endpoint",
    "token_endpoint",
    "api_url",
];

/// Maps `providers_<name>_<field>` (an environment key without its prefix, lower-cased) to
/// `(name, field)`. Names may contain `_`; the field is matched at the end.
pub(super) fn env_key(key: &str) -> Option<(String, &'static str)> {
    let rest = key.strip_prefix("providers_")?;
    FIELDS.iter().find_map(|field| {
        let name = rest.strip_suffix(field)?.strip_suffix('_')?;
        (!name.is_empty()).then(|| (name.to_owned(), *field))
    })
}

/// Whether `name` may name a provider: it is a URL segment.
fn valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Checks every provider table; the error names the provider and says what is wrong.
pub(super) fn check(providers: &BTreeMap<String, ProviderSettings>) -> Result<(), String> {
    for (name, provider) in providers {
        if !valid_name(name) {
            return Err(format!(
                "{name:?}: a provider's name is 1-32 characters of a-z, 0-9, - and _"
            ));
        }
        if provider.client_id.trim().is_empty() {
            return Err(format!("{name}: client_id is required"));
        }
        let preset = matches!(name.as_str(), "kakao" | "google" | "github");
        match &provider.issuer {
            None if !preset => {
                return Err(format!(
                    "{name}: issuer is required (only kakao, google and github are presets)"
                ));
            }
            Some(_) if name == "github" => {
                return Err("github: GitHub is not an OpenID provider; leave issuer out".to_owned());
            }
            Some(issuer) => check_issuer(name, issuer)?,
            None => {}
        }
        let endpoints = [
            &provider.authorization_endpoint,
            &provider.token_endpoint,
            &provider.api_url,
        ];
        for endpoint in endpoints.into_iter().flatten() {
            if name != "github" {
                return Err(format!(
                    "{name}: authorization_endpoint, token_endpoint and api_url are for github; \
                     OpenID providers are found by their issuer"
                ));
            }
            check_issuer(name, endpoint)?;
        }
    }
    Ok(())
}

/// An issuer is an https URL without query or fragment; plain http only on loopback (tests,
/// a provider on the same machine).
fn check_issuer(name: &str, issuer: &str) -> Result<(), String> {
    let url = url::Url::parse(issuer).map_err(|e| format!("{name}: issuer {issuer:?}: {e}"))?;
    let loopback = matches!(
        url.host(),
        Some(url::Host::Domain("localhost"))
            | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
            | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
    );
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return Err(format!("{name}: issuer must be an https:// URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{name}: issuer has no query or fragment"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_never_prints() {
        let provider = ProviderSettings {
            client_id: "id".to_owned(),
            client_secret: Some("hunter2".to_owned()),
            ..ProviderSettings::default()
        };
        let printed = format!("{provider:?}");
        assert!(
            !printed.contains("hunter2") && printed.contains("[redacted]"),
            "{printed}"
        );
    }

    #[test]
    fn environment_keys_name_a_provider_and_a_field() {
        assert_eq!(
            env_key("providers_kakao_client_secret"),
            Some(("kakao".to_owned(), "client_secret"))
        );
        assert_eq!(
            env_key("providers_my_corp_client_id"),
            Some(("my_corp".to_owned(), "client_id"))
        );
        assert_eq!(env_key("providers__client_id"), None);
        assert_eq!(env_key("providers_kakao_colour"), None);
        assert_eq!(env_key("provider_kakao_client_id"), None);
    }

    fn with(name: &str, provider: ProviderSettings) -> BTreeMap<String, ProviderSettings> {
        BTreeMap::from([(name.to_owned(), provider)])
    }

    #[test]
    fn presets_need_a_client_id_and_others_an_https_issuer() {
        let client = ProviderSettings {
            client_id: "id".to_owned(),
            ..ProviderSettings::default()
        };
        assert!(check(&with("google", client.clone())).is_ok());
        assert!(check(&with("corp", client.clone())).is_err());
        let issuer = |i: &str| ProviderSettings {
            issuer: Some(i.to_owned()),
            ..client.clone()
        };
        assert!(check(&with("corp", issuer("https://id.example.com"))).is_ok());
        assert!(check(&with("corp", issuer("http://127.0.0.1:4000"))).is_ok());
        assert!(check(&with("corp", issuer("http://id.example.com"))).is_err());
        assert!(check(&with("corp", issuer("https://id.example.com/?x=1"))).is_err());
        assert!(check(&with("github", issuer("https://github.com"))).is_err());
        assert!(check(&with("Corp", issuer("https://id.example.com"))).is_err());
        assert!(check(&with("google", ProviderSettings::default())).is_err());
        let enterprise = ProviderSettings {
            api_url: Some("https://github.example.com/api/v3".to_owned()),
            ..client.clone()
        };
        assert!(check(&with("github", enterprise.clone())).is_ok());
        assert!(
            check(&with("corp", enterprise)).is_err(),
            "endpoints are for github only"
        );
    }
}
