//! Remembering that the store is down, so requests answered from memory during an outage do not
//! each wait for the store first.

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

/// How long after a failure the store is presumed still down.
const PRESUME_DOWN: Duration = Duration::from_secs(1);
/// How long one request holds the right to probe the store before another may (longer than any
/// probe takes, so a probe whose request was dropped cannot block probing for good).
const PROBE_LEASE: Duration = Duration::from_secs(1);

/// A failure circuit breaker over real (monotonic) time: it is about how long to wait for a
/// database, not about session time, so it does not follow an injected clock. Once the store has
/// been presumed down for [`PRESUME_DOWN`], one request probes it; the others keep answering
/// from memory until that probe succeeds or fails.
#[derive(Debug, Default)]
pub(super) struct Breaker {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    down_until: Option<Instant>,
    probe_since: Option<Instant>,
}

impl Breaker {
    /// Whether this request should skip the store and answer from memory.
    pub(super) fn is_open(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match state.down_until {
            None => false,
            Some(until) if now < until => true,
            Some(_) if state.probe_since.is_some_and(|t| now - t < PROBE_LEASE) => true,
            Some(_) => {
                // This request probes; the others keep answering from memory meanwhile.
                state.probe_since = Some(now);
                false
            }
        }
    }

    /// The store just failed as unreachable.
    pub(super) fn trip(&self) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.down_until = Some(Instant::now() + PRESUME_DOWN);
        state.probe_since = None;
    }

    /// The store just answered.
    pub(super) fn reset(&self) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = State::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_the_pause_one_request_probes_and_the_others_do_not() {
        let breaker = Breaker::default();
        assert!(!breaker.is_open(), "closed at first");
        breaker.trip();
        assert!(breaker.is_open(), "open right after a failure");
        // Pretend the pause is over.
        breaker.state.lock().unwrap().down_until = Some(Instant::now());
        assert!(!breaker.is_open(), "the first request probes");
        assert!(breaker.is_open(), "the next ones answer from memory");
        assert!(breaker.is_open());
        breaker.trip();
        assert!(breaker.is_open(), "a failed probe opens it again");
        breaker.reset();
        assert!(!breaker.is_open(), "a successful one closes it");
    }
}
