//! `/.well-known/jwks.json` and `/.well-known/openid-configuration`.

use axum::{
    Json,
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::operation::OpError;
use crate::{error::ApiError, state::AppState};

/// Cached for five minutes: well inside the hour a new key is published before it signs.
/// With HS256 there is no JWKS at all (docs/design.md §3: HS256 only with the JWKS off).
pub(crate) async fn jwks(State(state): State<AppState>) -> Response {
    let keys = state.tokens.keyring.current();
    if !keys.signer.alg.is_public() {
        return ApiError::from(OpError::NotFound).into_response();
    }
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(keys.jwks.clone()),
    )
        .into_response()
}

pub(crate) async fn configuration(State(state): State<AppState>) -> impl IntoResponse {
    let issuer = &state.tokens.issuer;
    let alg = state.tokens.keyring.current().signer.alg;
    let mut grant_types = vec!["password", "refresh_token"];
    if state.mail.settings.passwordless_login {
        grant_types.push(super::token::EMAIL_CODE_GRANT);
    }
    let mut metadata = json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}/v1/token"),
        "revocation_endpoint": format!("{issuer}/v1/revoke"),
        "grant_types_supported": grant_types,
        "token_endpoint_auth_methods_supported": ["none"],
        "revocation_endpoint_auth_methods_supported": ["none"],
        "response_types_supported": [],
        "access_token_signing_alg_values_supported": [alg.as_str()],
    });
    if alg.is_public() {
        metadata["jwks_uri"] = json!(format!("{issuer}/.well-known/jwks.json"));
    }
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(metadata),
    )
}
