//! Liveness, readiness and metrics.

use axum::{
    Json, Router,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::get,
};
use serde_json::json;

use crate::state::AppState;

/// `/healthz`, `/readyz`, `/metrics`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    // A node about to stop says so first, so the load balancer sends its traffic elsewhere
    // while it still answers what is already on the way.
    if state.shutdown.is_draining() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "shutting down" })),
        );
    }
    match state.stores.health.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Err(error) => {
            tracing::warn!(error = ?error, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "store unreachable" })),
            )
        }
    }
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let now = state.clock.now();
    let policy = &state.config.session_policy;
    match state
        .stores
        .sessions
        .count_live_sessions(now, policy.idle_cutoff(now))
        .await
    {
        Ok(count) => state.metrics.set_active_sessions(count),
        Err(error) => tracing::warn!(error = ?error, "could not count live sessions"),
    }
    state
        .metrics
        .set_store_calls(state.node.cache.store_calls());
    state
        .metrics
        .set_token_caches(state.tokens.verified.stats(), state.tokens.revoked.len());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
