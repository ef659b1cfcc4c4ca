//! What readiness learns from requests that failed on the store (docs/operations.md, "Store
//! failures").

use std::{
    sync::Mutex,
    time::{Duration, Instant},
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
