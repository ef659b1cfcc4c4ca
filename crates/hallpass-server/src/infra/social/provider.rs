//! The configured OpenID providers: who they are, and their discovery documents, fetched on
//! first use and again when the provider's keys change.

use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};

use openidconnect::{
    AdditionalProviderMetadata, AuthType, ClientId, ClientSecret, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, ProviderMetadata, RedirectUrl,
    core::{
        CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod,
        CoreGrantType, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm,
        CoreJweKeyManagementAlgorithm, CoreResponseMode, CoreResponseType,
        CoreSubjectIdentifierType,
    },
};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::{SocialError, github::GitHub, http::ProviderHttp};
use crate::config::ProviderSettings;

/// Discovery keeps RFC 9207's flag, which the library's metadata type drops.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub(crate) struct Rfc9207Metadata {
    /// Whether the provider promises an `iss` parameter on every authorization response.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

impl AdditionalProviderMetadata for Rfc9207Metadata {}

/// A discovery document with the RFC 9207 flag.
pub(crate) type Metadata = ProviderMetadata<
    Rfc9207Metadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// A client built from discovery: the authorization endpoint is known; the token and userinfo
/// endpoints are optional in discovery documents, so only maybe.
pub(crate) type DiscoveredClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A provider's discovered configuration.
#[derive(Debug)]
pub struct Discovered {
    /// The client for this provider.
    pub client: DiscoveredClient,
    /// The issuer, exactly as the discovery document names it.
    pub issuer: IssuerUrl,
    /// Whether every authorization response must carry `iss` (RFC 9207).
    pub iss_required: bool,
}

/// Rediscovery (after an unknown signing key) happens at most this often.
const REDISCOVER_AFTER: Duration = Duration::from_secs(60);

/// One configured provider.
#[derive(Debug)]
pub struct Provider {
    /// The URL segment naming it.
    pub name: String,
    /// The name on the login button.
    pub display_name: String,
    /// Scopes asked for (`openid` is added by the library).
    pub scopes: Vec<String>,
    /// Whether a verified email may link a first login to an existing account.
    pub link_verified_email: bool,
    /// How hallpass talks to it.
    pub kind: ProviderKind,
}

/// OpenID Connect, or GitHub's OAuth 2 and API.
#[derive(Debug)]
pub enum ProviderKind {
    /// An OpenID provider, found by its issuer's discovery document. (Both are boxed: the
    /// clients are large, and a provider is built once.)
    Oidc(Box<Oidc>),
    /// GitHub.
    GitHub(Box<GitHub>),
}

/// What an OpenID provider needs: who it is, who we are to it, and its discovered configuration.
#[derive(Debug)]
pub struct Oidc {
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: Option<ClientSecret>,
    auth_type: AuthType,
    redirect: RedirectUrl,
    discovered: Mutex<Option<(Arc<Discovered>, Instant)>>,
}

impl Provider {
    /// The provider a settings table describes, with the presets filled in.
    pub fn from_settings(
        name: &str,
        settings: &ProviderSettings,
        public_url: &str,
    ) -> Result<Self, SocialError> {
        let (issuer, scopes, display, auth_type): (&str, &[&str], &str, AuthType) = match name {
            // Kakao's scopes are its consent items; it accepts the client secret in the body only.
            "kakao" => (
                "https://kauth.kakao.com",
                &["profile_nickname", "account_email"],
                "Kakao",
                AuthType::RequestBody,
            ),
            "google" => (
                "https://accounts.google.com",
                &["email", "profile"],
                "Google",
                AuthType::BasicAuth,
            ),
            "github" => ("", &[], "GitHub", AuthType::BasicAuth),
            _ => ("", &["email", "profile"], name, AuthType::BasicAuth),
        };
        let config = |e: &dyn std::fmt::Display| SocialError::Config(format!("{name}: {e}"));
        let redirect = RedirectUrl::new(format!("{public_url}/v1/oauth/{name}/callback"))
            .map_err(|e| config(&e))?;
        let kind = if name == "github" {
            ProviderKind::GitHub(Box::new(GitHub::from_settings(settings, redirect)?))
        } else {
            let issuer = settings.issuer.as_deref().unwrap_or(issuer);
            ProviderKind::Oidc(Box::new(Oidc {
                issuer: IssuerUrl::new(issuer.to_owned()).map_err(|e| config(&e))?,
                client_id: ClientId::new(settings.client_id.clone()),
                client_secret: settings.client_secret.clone().map(ClientSecret::new),
                auth_type,
                redirect,
                discovered: Mutex::new(None),
            }))
        };
        Ok(Self {
            name: name.to_owned(),
            display_name: settings
                .display_name
                .clone()
                .unwrap_or_else(|| display.to_owned()),
            scopes: settings
                .scopes
                .clone()
                .unwrap_or_else(|| scopes.iter().map(|s| (*s).to_owned()).collect()),
            link_verified_email: settings.link_verified_email,
            kind,
        })
    }
}

impl Oidc {
    /// The discovered configuration, fetched on first use. With `after_unknown_key`, it is
    /// fetched again (at most once a minute): the provider rotated its signing keys.
    pub async fn discovered(
        &self,
        http: &ProviderHttp,
        after_unknown_key: bool,
    ) -> Result<Arc<Discovered>, SocialError> {
        let mut cached = self.discovered.lock().await;
        if let Some((discovered, at)) = cached.as_ref()
            && (!after_unknown_key || at.elapsed() < REDISCOVER_AFTER)
        {
            return Ok(Arc::clone(discovered));
        }
        let metadata = Metadata::discover_async(self.issuer.clone(), http)
            .await
            .map_err(|e| {
                tracing::warn!(issuer = %self.issuer.as_str(), error = ?e, "provider discovery failed");
                SocialError::Provider(format!("discovery failed: {e}"))
            })?;
        let iss_required = metadata
            .additional_metadata()
            .authorization_response_iss_parameter_supported;
        let issuer = metadata.issuer().clone();
        let client = CoreClient::from_provider_metadata(
            metadata,
            self.client_id.clone(),
            self.client_secret.clone(),
        )
        .set_auth_type(self.auth_type.clone())
        .set_redirect_uri(self.redirect.clone());
        let discovered = Arc::new(Discovered {
            client,
            issuer,
            iss_required,
        });
        *cached = Some((Arc::clone(&discovered), Instant::now()));
        Ok(discovered)
    }
}

/// Every configured provider, by name.
#[derive(Debug, Clone, Default)]
pub struct Providers(Arc<BTreeMap<String, Arc<Provider>>>);

impl Providers {
    /// The providers the settings configure.
    pub fn from_settings(
        providers: &BTreeMap<String, ProviderSettings>,
        public_url: &str,
    ) -> Result<Self, SocialError> {
        let built = providers
            .iter()
            .map(|(name, settings)| {
                Provider::from_settings(name, settings, public_url)
                    .map(|p| (name.clone(), Arc::new(p)))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self(Arc::new(built)))
    }

    /// The provider named `name`, if configured.
    pub fn get(&self, name: &str) -> Option<Arc<Provider>> {
        self.0.get(name).cloned()
    }

    /// Every provider, for the login page's buttons.
    pub fn all(&self) -> impl Iterator<Item = &Arc<Provider>> {
        self.0.values()
    }
}
