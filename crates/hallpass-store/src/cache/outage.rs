//! Remembering that the store is down, so requests answered from memory during an outage do not
//! each wait out the pool's acquire timeout first.

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

/// How long after a failure the store is presumed still down. One request per interval probes it.
const PRESUME_DOWN: Duration = Duration::from_secs(1);

/// A failure circuit breaker over real (monotonic) time: it is about how long to wait for a
/// database, not about session time, so it does not follow an injected clock.
#[derive(Debug, Default)]
pub(super) struct Breaker {
    down_until: Mutex<Option<Instant>>,
}

impl Breaker {
    /// Whether a store call failed for unavailability less than [`PRESUME_DOWN`] ago.
    pub(super) fn is_open(&self) -> bool {
        let mut down = self.down_until.lock().unwrap_or_else(|p| p.into_inner());
        match *down {
            Some(until) if Instant::now() < until => true,
            Some(_) => {
                // Let the next request probe the store.
                *down = None;
                false
            }
            None => false,
        }
    }

    /// The store just failed as unreachable.
    pub(super) fn trip(&self) {
        *self.down_until.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(Instant::now() + PRESUME_DOWN);
    }

    /// The store just answered.
    pub(super) fn reset(&self) {
        *self.down_until.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}
