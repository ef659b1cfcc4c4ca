//! When open streams must look at their session again. Time comes from the server's clock
//! (a manual one in tests), so a deadline cannot be a tokio sleep on wall time. Instead every
//! stream files its deadline here, and one task per node ([`Deadlines::fire_due`], on a short
//! real-time tick) wakes the streams whose deadline the clock has passed. A stream that is not
//! due costs nothing per tick: no wake-up, no poll, just its entry in an ordered map.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicU64, Ordering},
};

use std::collections::BTreeMap;
use time::OffsetDateTime;
use tokio::sync::Notify;

/// The deadlines of open streams, earliest first.
#[derive(Debug, Default)]
pub struct Deadlines {
    due: Mutex<BTreeMap<(OffsetDateTime, u64), Arc<Notify>>>,
    next_id: AtomicU64,
}

impl Deadlines {
    /// A new stream's alarm, not set.
    pub fn alarm(self: &Arc<Self>) -> Alarm {
        Alarm {
            deadlines: Arc::clone(self),
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            at: None,
            bell: Arc::new(Notify::new()),
        }
    }

    /// Wakes every stream whose deadline is at or before `now`; returns how many.
    pub fn fire_due(&self, now: OffsetDateTime) -> usize {
        let mut due = self.lock();
        let mut fired = 0;
        while let Some(entry) = due.first_entry() {
            if entry.key().0 > now {
                break;
            }
            // A permit is kept if the stream is not waiting at this instant: nothing is lost.
            entry.remove().notify_one();
            fired += 1;
        }
        fired
    }

    /// The earliest deadline filed, if any (for tests and metrics).
    pub fn earliest(&self) -> Option<OffsetDateTime> {
        self.lock().keys().next().map(|(at, _)| *at)
    }

    /// Deadlines filed (one per open stream at most).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no deadline is filed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<(OffsetDateTime, u64), Arc<Notify>>> {
        self.due.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One stream's deadline; dropping it takes the deadline back.
#[derive(Debug)]
pub struct Alarm {
    deadlines: Arc<Deadlines>,
    id: u64,
    at: Option<OffsetDateTime>,
    bell: Arc<Notify>,
}

impl Alarm {
    /// Rings at the first tick at or after `at` (replacing any earlier setting).
    pub fn set(&mut self, at: OffsetDateTime) {
        let mut due = self.deadlines.lock();
        if let Some(old) = self.at.take() {
            due.remove(&(old, self.id));
        }
        due.insert((at, self.id), Arc::clone(&self.bell));
        self.at = Some(at);
    }

    /// Resolves once the alarm rang (at once if it rang since the last wait).
    pub async fn rung(&self) {
        self.bell.notified().await;
    }
}

impl Drop for Alarm {
    fn drop(&mut self) {
        if let Some(at) = self.at {
            self.deadlines.lock().remove(&(at, self.id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    #[tokio::test]
    async fn only_due_alarms_ring_and_dropped_ones_leave() {
        let t0 = OffsetDateTime::UNIX_EPOCH + Duration::days(1);
        let deadlines = Arc::new(Deadlines::default());
        let mut soon = deadlines.alarm();
        let mut later = deadlines.alarm();
        soon.set(t0 + Duration::minutes(1));
        later.set(t0 + Duration::hours(1));
        later.set(t0 + Duration::hours(2));
        assert_eq!(deadlines.len(), 2, "setting again replaces");
        assert_eq!(deadlines.fire_due(t0), 0);
        assert_eq!(deadlines.fire_due(t0 + Duration::minutes(1)), 1);
        soon.rung().await;
        assert_eq!(deadlines.fire_due(t0 + Duration::hours(1)), 0);
        let rang = tokio::time::timeout(std::time::Duration::from_millis(20), later.rung()).await;
        assert!(rang.is_err(), "not due yet");
        drop(later);
        assert!(deadlines.is_empty());
        assert_eq!(deadlines.fire_due(t0 + Duration::days(1)), 0);
    }
}
