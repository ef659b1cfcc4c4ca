//! GitHub: OAuth 2 (authorization code with PKCE S256 and `state`; GitHub has no ID token, no
//! nonce and no `iss`) and its REST API for who the user is. The subject is GitHub's numeric
//! user id (logins can be renamed); the email is the primary one, and verified only if GitHub
//! says so.

use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
    basic::BasicClient,
};
use serde::Deserialize;

use super::{SocialError, http::ProviderHttp, identity::VerifiedIdentity};
use crate::config::ProviderSettings;

/// A client with the authorization and token endpoints set.
type GitHubClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// The GitHub provider.
#[derive(Debug)]
pub struct GitHub {
    client: GitHubClient,
    api_url: String,
    scopes: Vec<String>,
}

impl GitHub {
    /// GitHub from its settings table (endpoints overridable for GitHub Enterprise Server).
    pub fn from_settings(
        settings: &ProviderSettings,
        redirect: RedirectUrl,
    ) -> Result<Self, SocialError> {
        let config = |e: &dyn std::fmt::Display| SocialError::Config(format!("github: {e}"));
        let auth = settings
            .authorization_endpoint
            .clone()
            .unwrap_or_else(|| "https://github.com/login/oauth/authorize".to_owned());
        let token = settings
            .token_endpoint
            .clone()
            .unwrap_or_else(|| "https://github.com/login/oauth/access_token".to_owned());
        let mut client = BasicClient::new(ClientId::new(settings.client_id.clone()))
            .set_auth_uri(AuthUrl::new(auth).map_err(|e| config(&e))?)
            .set_token_uri(TokenUrl::new(token).map_err(|e| config(&e))?)
            .set_redirect_uri(redirect);
        if let Some(secret) = &settings.client_secret {
            client = client.set_client_secret(ClientSecret::new(secret.clone()));
        }
        Ok(Self {
            client,
            api_url: settings
                .api_url
                .clone()
                .unwrap_or_else(|| "https://api.github.com".to_owned())
                .trim_end_matches('/')
                .to_owned(),
            scopes: settings
                .scopes
                .clone()
                .unwrap_or_else(|| vec!["read:user".to_owned(), "user:email".to_owned()]),
        })
    }

    /// The authorization URL, its `state`, and the PKCE verifier to keep.
    pub fn authorize_url(&self) -> (url::Url, String, String) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self.client.authorize_url(CsrfToken::new_random);
        for scope in &self.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state) = request.set_pkce_challenge(challenge).url();
        (url, state.secret().clone(), verifier.secret().clone())
    }

    /// Exchanges the code and asks the API who the user is.
    pub async fn identity(
        &self,
        http: &ProviderHttp,
        code: String,
        verifier: String,
    ) -> Result<VerifiedIdentity, SocialError> {
        let token = self
            .client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(PkceCodeVerifier::new(verifier))
            .request_async(http)
            .await
            .map_err(|e| SocialError::Exchange(e.to_string()))?;
        let access = token.access_token().secret();
        let user: ApiUser = http
            .github_get(&format!("{}/user", self.api_url), access)
            .await?;
        let emails: Vec<ApiEmail> = http
            .github_get(&format!("{}/user/emails", self.api_url), access)
            .await?;
        let primary = emails.into_iter().find(|e| e.primary);
        Ok(VerifiedIdentity {
            subject: user.id.to_string(),
            email_verified: primary.as_ref().is_some_and(|e| e.verified),
            email: primary.map(|e| e.email),
            preferred_username: Some(user.login),
        })
    }
}

/// `GET /user`: the fields used.
#[derive(Deserialize)]
struct ApiUser {
    id: u64,
    login: String,
}

/// One of `GET /user/emails`.
#[derive(Deserialize)]
struct ApiEmail {
    email: String,
    primary: bool,
    verified: bool,
}
