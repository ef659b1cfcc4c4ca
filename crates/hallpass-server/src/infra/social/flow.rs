//! The authorization code flow with PKCE (S256), `state` and `nonce`, and the ID token checks
//! (signature by the provider's keys, `iss` exact, `aud` our client id, `exp`, `nonce`).

use openidconnect::{
    AuthorizationCode, CsrfToken, Nonce, PkceCodeChallenge, PkceCodeVerifier, Scope, TokenResponse,
    core::{CoreAuthenticationFlow, CoreJwsSigningAlgorithm},
};
use time::OffsetDateTime;

use super::{
    SocialError,
    http::ProviderHttp,
    identity::VerifiedIdentity,
    next::SafeNext,
    pending::{PENDING_LIFETIME, PendingLogin},
    provider::{Provider, ProviderKind},
};

/// What a provider's callback carries (RFC 6749 §4.1.2, RFC 9207).
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Callback {
    /// The authorization code.
    pub code: Option<String>,
    /// Our `state`, echoed.
    pub state: Option<String>,
    /// The issuer that answered (RFC 9207).
    pub iss: Option<String>,
    /// Set when the provider refused (`access_denied` when the user cancelled).
    pub error: Option<String>,
}

/// Signature algorithms an ID token may use: the provider's keys, never a MAC under the
/// client secret (which the library would otherwise accept if the provider advertised it).
const ID_TOKEN_ALGS: [CoreJwsSigningAlgorithm; 4] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// Where a finished login goes, and what it opens.
#[derive(Debug, Clone)]
pub(crate) enum Destination {
    /// A cookie session for hallpass's pages, then this local path.
    Pages(SafeNext),
    /// A token session for a single-page app, then this page of an allowed origin.
    App(url::Url),
}

/// The provider's authorization URL for a new login, and the transaction to keep meanwhile.
pub(crate) async fn start(
    provider: &Provider,
    http: &ProviderHttp,
    destination: Destination,
    link_to: Option<uuid::Uuid>,
    now: OffsetDateTime,
) -> Result<(url::Url, PendingLogin), SocialError> {
    let (url, state, nonce, verifier) = match &provider.kind {
        ProviderKind::Oidc(oidc) => {
            let discovered = oidc.discovered(http, false).await?;
            let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
            let mut request = discovered.client.authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            );
            for scope in provider.scopes.iter().filter(|s| *s != "openid") {
                request = request.add_scope(Scope::new(scope.clone()));
            }
            let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
            (
                url,
                state.secret().clone(),
                nonce.secret().clone(),
                verifier.secret().clone(),
            )
        }
        ProviderKind::GitHub(github) => {
            let (url, state, verifier) = github.authorize_url();
            // No ID token, so no nonce.
            (url, state, String::new(), verifier)
        }
    };
    let pending = PendingLogin {
        provider: provider.name.clone(),
        state,
        nonce,
        verifier,
        next: match &destination {
            Destination::Pages(next) => next.as_str().to_owned(),
            Destination::App(url) => url.to_string(),
        },
        tokens: matches!(destination, Destination::App(_)),
        link_to,
        expires_at: (now + PENDING_LIFETIME).unix_timestamp(),
    };
    Ok((url, pending))
}

/// Whether `callback` answers the transaction `pending` (same provider, not expired, the same
/// `state`), before anything in it is acted on.
pub(crate) fn check_transaction(
    provider: &Provider,
    pending: &PendingLogin,
    callback: &Callback,
    now: OffsetDateTime,
) -> Result<(), SocialError> {
    if pending.provider != provider.name || now.unix_timestamp() > pending.expires_at {
        return Err(SocialError::Rejected("the login has expired; start again"));
    }
    match &callback.state {
        Some(state) if pending.state_matches(state) => Ok(()),
        _ => Err(SocialError::Rejected("the login's state does not match")),
    }
}

/// Checks the callback against the transaction, exchanges the code, verifies the ID token.
pub(crate) async fn finish(
    provider: &Provider,
    http: &ProviderHttp,
    pending: &PendingLogin,
    callback: &Callback,
    now: OffsetDateTime,
    skew: time::Duration,
) -> Result<VerifiedIdentity, SocialError> {
    check_transaction(provider, pending, callback, now)?;
    let oidc = match &provider.kind {
        ProviderKind::Oidc(oidc) => oidc,
        ProviderKind::GitHub(github) => {
            refused_at_provider(callback)?;
            let code = callback
                .code
                .clone()
                .ok_or(SocialError::Rejected("the response carries no code"))?;
            return github.identity(http, code, pending.verifier.clone()).await;
        }
    };
    let discovered = oidc.discovered(http, false).await?;
    // RFC 9207, before anything else in the response is believed: a present `iss` must be this
    // provider's (mix-up defence); an absent one is refused only if the provider promised it.
    match &callback.iss {
        Some(iss) if iss != discovered.issuer.as_str() => {
            return Err(SocialError::Rejected(
                "the response comes from another issuer",
            ));
        }
        None if discovered.iss_required => {
            return Err(SocialError::Rejected(
                "the response does not name its issuer",
            ));
        }
        _ => {}
    }
    refused_at_provider(callback)?;
    let code = callback
        .code
        .clone()
        .ok_or(SocialError::Rejected("the response carries no code"))?;
    let token = discovered
        .client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| SocialError::Provider(format!("no token endpoint: {e}")))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
        .request_async(http)
        .await
        .map_err(|e| SocialError::Exchange(e.to_string()))?;
    let id_token = token
        .id_token()
        .ok_or(SocialError::Rejected("the provider sent no ID token"))?;
    let verify = |discovered: &super::provider::Discovered| {
        // The provider's clock may run ahead of ours by the configured skew.
        let behind = now - skew;
        let verifier = discovered
            .client
            .id_token_verifier()
            .set_allowed_algs(ID_TOKEN_ALGS)
            .set_time_fn(move || {
                chrono::DateTime::<chrono::Utc>::from_timestamp(
                    behind.unix_timestamp(),
                    behind.nanosecond(),
                )
                .unwrap_or_default()
            });
        id_token
            .claims(&verifier, &Nonce::new(pending.nonce.clone()))
            .map(|claims| VerifiedIdentity {
                subject: claims.subject().as_str().to_owned(),
                email: claims.email().map(|e| e.as_str().to_owned()),
                email_verified: claims.email_verified().unwrap_or(false),
                preferred_username: claims.preferred_username().map(|u| u.as_str().to_owned()),
            })
    };
    match verify(&discovered) {
        Ok(identity) => Ok(identity),
        // An unknown key: the provider may have rotated; read its keys again, once.
        Err(openidconnect::ClaimsVerificationError::SignatureVerification(
            openidconnect::SignatureVerificationError::NoMatchingKey,
        )) => {
            let again = oidc.discovered(http, true).await?;
            verify(&again).map_err(|e| SocialError::IdToken(format!("{e:?}")))
        }
        Err(e) => Err(SocialError::IdToken(format!("{e:?}"))),
    }
}

/// The provider's own refusal, if the callback carries one (`access_denied`: the user cancelled).
fn refused_at_provider(callback: &Callback) -> Result<(), SocialError> {
    match &callback.error {
        Some(error) if error == "access_denied" => Err(SocialError::Cancelled),
        Some(error) => Err(SocialError::Provider(format!(
            "the provider refused: {error}"
        ))),
        None => Ok(()),
    }
}
