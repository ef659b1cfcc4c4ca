//! Token helpers: the token endpoint, Bearer calls, RFC 6749 error bodies.

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use super::{PASSWORD, TestApp};

/// An access and a refresh token from the token endpoint.
#[derive(Debug, Clone)]
pub(crate) struct Tokens {
    pub(crate) access: String,
    pub(crate) refresh: String,
}

impl TestApp {
    pub(crate) async fn token_request(&self, body: Value) -> Response {
        self.client
            .post(self.url("/v1/token"))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn tokens(&self, username: &str) -> Tokens {
        let response = self
            .token_request(
                json!({ "grant_type": "password", "username": username, "password": PASSWORD }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "token for {username}");
        tokens_from(response).await
    }

    pub(crate) async fn refresh(&self, refresh_token: &str) -> Response {
        self.token_request(json!({ "grant_type": "refresh_token", "refresh_token": refresh_token }))
            .await
    }

    pub(crate) async fn bearer(
        &self,
        method: reqwest::Method,
        path: &str,
        access: &str,
    ) -> Response {
        self.client
            .request(method, self.url(path))
            .bearer_auth(access)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn bearer_me(&self, access: &str) -> StatusCode {
        self.bearer(reqwest::Method::GET, "/v1/me", access)
            .await
            .status()
    }
}

pub(crate) async fn tokens_from(response: Response) -> Tokens {
    let body: Value = response.json().await.unwrap();
    Tokens {
        access: body["access_token"].as_str().unwrap().to_owned(),
        refresh: body["refresh_token"].as_str().unwrap().to_owned(),
    }
}

/// Reads an RFC 6749 error body.
pub(crate) async fn oauth_error(response: Response, status: StatusCode, error: &str) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].is_string());
    body
}

/// The claims of an access token, unverified (what is in it, not whether it is genuine).
pub(crate) fn claims_of(access: &str) -> Value {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let payload = URL_SAFE_NO_PAD
        .decode(access.split('.').nth(1).unwrap())
        .unwrap();
    serde_json::from_slice(&payload).unwrap()
}
