//! The back channel to providers (discovery, JWKS, token endpoint) through hallpass's own
//! reqwest client: openidconnect's built-in client is for another reqwest major version.

use std::{future::Future, pin::Pin, time::Duration};

use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse, http};

/// The largest answer read from a provider.
const MAX_BODY: usize = 1 << 20;

/// An HTTP client for provider calls: no redirects (a redirect on a back-channel call is at
/// best a misconfiguration and at worst a way to reach internal hosts), a timeout, a size cap.
#[derive(Clone, Debug)]
pub struct ProviderHttp(reqwest::Client);

impl ProviderHttp {
    /// A client with the rules above.
    pub fn new() -> reqwest::Result<Self> {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("hallpass/", env!("CARGO_PKG_VERSION")))
            .build()
            .map(Self)
    }
}

impl ProviderHttp {
    /// A GitHub REST API call with the user's access token.
    pub async fn github_get<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        access_token: &str,
    ) -> Result<T, super::SocialError> {
        let failed =
            |e: &dyn std::fmt::Display| super::SocialError::Provider(format!("GitHub API: {e}"));
        let response = self
            .0
            .get(url)
            .bearer_auth(access_token)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
            .send()
            .await
            .map_err(|e| failed(&e))?;
        if !response.status().is_success() {
            return Err(failed(&response.status()));
        }
        let body = response.bytes().await.map_err(|e| failed(&e))?;
        if body.len() > MAX_BODY {
            return Err(failed(&"the answer is too large"));
        }
        serde_json::from_slice(&body).map_err(|e| failed(&e))
    }
}

/// A provider call failed.
#[derive(Debug, thiserror::Error)]
pub enum ProviderHttpError {
    /// The request could not be made or answered.
    #[error("request failed: {0}")]
    Request(#[from] reqwest::Error),
    /// The answer could not be represented.
    #[error("malformed answer: {0}")]
    Http(#[from] http::Error),
    /// The answer was larger than any provider's should be.
    #[error("the answer is larger than {MAX_BODY} bytes")]
    TooLarge,
}

impl<'c> AsyncHttpClient<'c> for ProviderHttp {
    type Error = ProviderHttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request)?;
            let mut response = self.0.execute(request).await?;
            let mut status = response.status();
            let mut builder = http::Response::builder().version(response.version());
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await? {
                if body.len() + chunk.len() > MAX_BODY {
                    return Err(ProviderHttpError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            // GitHub answers a refused code exchange with 200 and an error body; make it the
            // 400 RFC 6749 §5.2 says, so it is read as the error it is.
            if status == http::StatusCode::OK
                && serde_json::from_slice::<serde_json::Value>(&body)
                    .is_ok_and(|v| v.get("error").is_some() && v.get("access_token").is_none())
            {
                status = http::StatusCode::BAD_REQUEST;
            }
            Ok(builder.status(status).body(body)?)
        })
    }
}
