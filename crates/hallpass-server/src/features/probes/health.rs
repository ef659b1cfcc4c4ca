//! Liveness, readiness and metrics: public on the main listener (metrics only with the
//! operator's token), and all three on the optional operations listener without credentials.

use std::time::Duration;

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::operation::OpError;
use crate::{error::ApiError, http::ops_access, state::AppState};

pub(crate) async fn guarded_metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let access = state
        .config
        .metrics_access
        .as_ref()
        .ok_or(OpError::NotFound)?;
    ops_access::admit(access, &headers)?;
    Ok(metrics(State(state)).await.into_response())
}

pub(crate) async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// The longest readiness waits for the database: a probe must answer quickly either way.
const READY_PING_TIMEOUT: Duration = Duration::from_secs(1);

/// Ready when the database answers a ping within a second and no request failed on the store in
/// the last few seconds (a full disk fails writes while reads still work).
pub(crate) async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let unready = |status: &str| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "2")],
            Json(json!({ "status": status })),
        )
    };
    // A node about to stop says so first, so the load balancer sends its traffic elsewhere
    // while it still answers what is already on the way.
    if state.shutdown.is_draining() {
        return unready("shutting down");
    }
    match tokio::time::timeout(READY_PING_TIMEOUT, state.stores.health.ping()).await {
        Ok(Ok(())) if state.node.store_health.failed_recently() => unready("store failing"),
        Ok(Ok(())) => (
            StatusCode::OK,
            [(header::RETRY_AFTER, "0")],
            Json(json!({ "status": "ready" })),
        ),
        Ok(Err(error)) => {
            tracing::warn!(error = ?error, "readiness check failed");
            unready("store unreachable")
        }
        Err(_) => {
            tracing::warn!("readiness check: the database did not answer within a second");
            unready("store unreachable")
        }
    }
}

pub(crate) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
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
    match state.stores.outbox.outbox_counts().await {
        Ok(counts) => state.metrics.set_outbox(counts),
        Err(error) => tracing::warn!(error = ?error, "could not count the outbox"),
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
