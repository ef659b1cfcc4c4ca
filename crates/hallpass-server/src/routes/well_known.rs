//! `/.well-known/jwks.json` and `/.well-known/openid-configuration`.

use axum::{Json, Router, extract::State, http::header, response::IntoResponse, routing::get};
use serde_json::json;

use crate::state::AppState;

/// Key publication and issuer metadata.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/jwks.json", get(jwks))
        .route("/.well-known/openid-configuration", get(configuration))
}

/// Cached for five minutes: well inside the hour a new key is published before it signs.
async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(state.tokens.keyring.current().jwks.clone()),
    )
}

async fn configuration(State(state): State<AppState>) -> impl IntoResponse {
    let issuer = &state.tokens.issuer;
    let alg = state.tokens.keyring.current().signer.alg.as_str();
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(json!({
            "issuer": issuer,
            "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
            "token_endpoint": format!("{issuer}/v1/token"),
            "revocation_endpoint": format!("{issuer}/v1/revoke"),
            "grant_types_supported": ["password", "refresh_token"],
            "token_endpoint_auth_methods_supported": ["none"],
            "revocation_endpoint_auth_methods_supported": ["none"],
            "response_types_supported": [],
            "access_token_signing_alg_values_supported": [alg],
        })),
    )
}
