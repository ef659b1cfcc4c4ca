//! The harness checks itself: the provider issues codes for PKCE logins with `iss` on the
//! callback, and re-signs ID tokens on request.

use super::*;

/// A relying party's authorization request by hand: the URL and the secrets it must keep.
struct AuthRequest {
    url: String,
    state: String,
    nonce: String,
    verifier: String,
}

fn authorization_request(provider: &TestProvider, client_id: &str) -> AuthRequest {
    let state = uuid::Uuid::new_v4().simple().to_string();
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    // 64 characters from the RFC 7636 alphabet.
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    let url = Url::parse_with_params(
        &format!("{}/auth", provider.issuer),
        [
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", &provider.redirect_uri),
            ("scope", "openid email profile"),
            ("state", &state),
            ("nonce", &nonce),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .unwrap();
    AuthRequest {
        url: url.into(),
        state,
        nonce,
        verifier,
    }
}

/// The callback's query, checked against the request: a code, the same state, our issuer.
fn callback_code(provider: &TestProvider, callback: &Url, request: &AuthRequest) -> String {
    let expected = Url::parse(&provider.redirect_uri).unwrap();
    assert_eq!(callback.origin(), expected.origin(), "{callback}");
    assert_eq!(callback.path(), expected.path(), "{callback}");
    let params: HashMap<String, String> = callback.query_pairs().into_owned().collect();
    assert_eq!(params.get("state"), Some(&request.state), "{callback}");
    assert_eq!(params.get("iss"), Some(&provider.issuer), "{callback}");
    params.get("code").expect("a code on the callback").clone()
}

/// Decodes one part (0 header, 1 payload) of a compact JWT without verifying anything.
fn jwt_part(jwt: &str, index: usize) -> Value {
    let part = jwt.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// The provider's token endpoint, from its discovery document.
async fn token_endpoint(provider: &TestProvider) -> String {
    let discovery: Value = provider
        .http
        .get(format!(
            "{}/.well-known/openid-configuration",
            provider.issuer
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], provider.issuer.as_str());
    assert_eq!(
        discovery["authorization_response_iss_parameter_supported"],
        true
    );
    assert_eq!(
        discovery["code_challenge_methods_supported"],
        json!(["S256"])
    );
    discovery["token_endpoint"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_test_provider_issues_codes() {
    if !oidc_available() {
        return;
    }
    let provider = TestProvider::start("http://127.0.0.1:9/callback").await;
    let request = authorization_request(&provider, &provider.client_id);

    let callback = provider.log_in(&request.url, "alice").await;
    let code = callback_code(&provider, &callback, &request);

    let response = provider
        .http
        .post(token_endpoint(&provider).await)
        .basic_auth(&provider.client_id, Some(&provider.client_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &provider.redirect_uri),
            ("code_verifier", &request.verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let tokens: Value = response.json().await.unwrap();
    let id_token = tokens["id_token"].as_str().expect("an id_token");
    assert_eq!(jwt_part(id_token, 0)["alg"], "RS256");
    let claims = jwt_part(id_token, 1);
    assert_eq!(claims["nonce"], request.nonce.as_str());
    assert_eq!(claims["iss"], provider.issuer.as_str());
    assert_eq!(claims["aud"], provider.client_id.as_str());
    assert_eq!(claims["sub"], "sub-alice");
    assert_eq!(claims["email"], "alice@example.test");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["preferred_username"], "alice");
}

/// The second client (secret in the body), an unverified account, and the tamper hook.
#[tokio::test]
async fn the_test_provider_tampers_id_tokens_on_request() {
    if !oidc_available() {
        return;
    }
    let provider = TestProvider::start("http://127.0.0.1:9/callback").await;
    let token_endpoint = token_endpoint(&provider).await;
    let exchange = async |request: &AuthRequest, login: &str| -> String {
        let callback = provider.log_in(&request.url, login).await;
        let code = callback_code(&provider, &callback, request);
        let response = provider
            .http
            .post(&token_endpoint)
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &provider.redirect_uri),
                ("code_verifier", &request.verifier),
                ("client_id", &provider.post_client_id),
                ("client_secret", &provider.post_client_secret),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let tokens: Value = response.json().await.unwrap();
        tokens["id_token"].as_str().expect("an id_token").to_owned()
    };

    provider
        .tamper(json!({ "aud": "someone-else", "nonce": null, "alg": "HS256" }))
        .await;
    let request = authorization_request(&provider, &provider.post_client_id);
    let id_token = exchange(&request, "unverified-carol").await;
    assert_eq!(jwt_part(&id_token, 0)["alg"], "HS256");
    let claims = jwt_part(&id_token, 1);
    assert_eq!(claims["aud"], "someone-else");
    assert!(claims.get("nonce").is_none(), "{claims}");
    assert_eq!(claims["sub"], "sub-unverified-carol");
    assert_eq!(claims["email_verified"], false);

    provider.tamper(json!({})).await;
    let request = authorization_request(&provider, &provider.post_client_id);
    let id_token = exchange(&request, "unverified-carol").await;
    let header = jwt_part(&id_token, 0);
    assert_eq!(
        (&header["alg"], &header["kid"]),
        (&json!("RS256"), &json!("test-rs256"))
    );
    let claims = jwt_part(&id_token, 1);
    assert_eq!(claims["aud"], provider.post_client_id.as_str());
    assert_eq!(claims["nonce"], request.nonce.as_str());
}
