//! Bounded requests and what readiness learns from failing ones (docs/operations.md, "Store
//! failures").

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{
    error::{ApiError, StoreFailed},
    state::AppState,
};

/// How long after the last store failure a node reports itself unready.
const UNREADY_AFTER_FAILURE: Duration = Duration::from_secs(5);

/// Recent store failures seen by requests: a full disk fails writes while reads (and a readiness
/// ping) still succeed, so readiness also asks this.
#[derive(Debug, Default)]
pub struct StoreHealth {
    last_failure: Mutex<Option<Instant>>,
}

impl StoreHealth {
    /// A request was just answered 503 because the store failed.
    pub fn note_failure(&self) {
        *self.last_failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    }

    /// Whether a request failed on the store within the last few seconds.
    pub fn failed_recently(&self) -> bool {
        self.last_failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some_and(|at| at.elapsed() < UNREADY_AFTER_FAILURE)
    }
}

/// Answers 503 `timeout` (problem+json, `Retry-After`) when a request outlives
/// `request_timeout`, and notes responses that failed on the store.
pub async fn bound_and_watch(
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
