//! Bounded requests and what readiness learns from failing ones (docs/operations.md, "Store
//! failures").

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{
    error::{ApiError, StoreFailed},
    state::AppState,
};

/// Answers 503 `timeout` (problem+json, `Retry-After`) when a request outlives
/// `request_timeout`, and notes responses that failed on the store.
pub(crate) async fn bound_and_watch(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let response = match tokio::time::timeout(state.config.request_timeout, next.run(request)).await
    {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(timeout = ?state.config.request_timeout, "request timed out");
            ApiError::Timeout.into_response()
        }
    };
    if response.extensions().get::<StoreFailed>().is_some() {
        state.node.store_health.note_failure();
    }
    response
}
