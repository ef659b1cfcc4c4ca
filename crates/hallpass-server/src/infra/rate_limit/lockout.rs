//! Consecutive failures and the lockout they cause, counted on this node (the fallback when
//! Redis is not configured or unreachable).

use std::{collections::HashMap, sync::Arc, sync::Mutex, time::Duration};

use hallpass_core::{clock::Clock, device::DeviceId, session::SessionId};
use time::OffsetDateTime;

use super::limited::Limited;

/// The first lockout; each further failure doubles it up to the configured maximum.
pub(super) const FIRST_LOCKOUT: Duration = Duration::from_secs(30);
/// Lockouts tracked at once; past this, entries that are not locked are forgotten first.
const MAX_TRACKED: usize = 100_000;

/// Whose consecutive failures an attempt counts toward, and whose lockout refuses it.
#[derive(Debug, Clone, Copy)]
pub enum Lockee<'a> {
    /// The account by canonical username, existing or not (so that the lockout itself reveals
    /// nothing about which accounts exist): attempts from anywhere without a device cookie.
    Account(&'a str),
    /// A browser presenting a genuine device cookie for the account it tries: its own count,
    /// untouched by failures from anywhere else.
    Device(DeviceId),
    /// A signed-in session confirming its password (`POST /v1/password`): its own count, so
    /// failed logins elsewhere cannot stop the owner changing their password, and a stolen
    /// session still gets only a few guesses at the current one.
    Session(SessionId),
}

impl Lockee<'_> {
    /// The key its count is kept under, here and in Redis. The two kinds never collide: device
    /// ids are base64url, and account and session keys always start `acct:` and `sess:`.
    pub(super) fn key(&self) -> String {
        match self {
            Self::Account(account) => format!("acct:{account}"),
            Self::Device(device) => format!("dev:{device}"),
            Self::Session(session) => format!("sess:{session}"),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    locked_until: Option<OffsetDateTime>,
}

/// Consecutive failures per lockee.
pub(super) struct Lockout {
    pub(super) clock: Arc<dyn Clock>,
    pub(super) threshold: u32,
    pub(super) max_lockout: Duration,
    entries: Mutex<HashMap<String, Failures>>,
}

impl Lockout {
    pub(super) fn new(clock: Arc<dyn Clock>, threshold: u32, max_lockout: Duration) -> Self {
        Self {
            clock,
            threshold,
            max_lockout,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Failures>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Refuses while `lockee` is locked.
    pub(super) fn check(&self, lockee: &Lockee<'_>) -> Result<(), Limited> {
        if self.threshold == 0 {
            return Ok(());
        }
        let now = self.clock.now();
        match self
            .entries()
            .get(&lockee.key())
            .and_then(|f| f.locked_until)
        {
            Some(until) if until > now => Err(Limited {
                retry_after: (until - now).try_into().unwrap_or(Duration::from_secs(1)),
            }),
            _ => Ok(()),
        }
    }

    /// Counts a failed attempt; from the threshold on, locks for 30 s, then 60 s, …
    pub(super) fn record_failure(&self, lockee: &Lockee<'_>) {
        if self.threshold == 0 {
            return;
        }
        let now = self.clock.now();
        let mut entries = self.entries();
        if entries.len() >= MAX_TRACKED {
            entries.retain(|_, f| f.locked_until.is_some_and(|until| until > now));
            if entries.len() >= MAX_TRACKED {
                entries.clear();
            }
        }
        let failures = entries.entry(lockee.key()).or_insert(Failures {
            count: 0,
            locked_until: None,
        });
        failures.count = failures.count.saturating_add(1);
        if failures.count >= self.threshold {
            let doublings = (failures.count - self.threshold).min(20);
            let lockout = FIRST_LOCKOUT
                .saturating_mul(1 << doublings)
                .min(self.max_lockout);
            failures.locked_until = Some(now + lockout);
        }
    }

    /// A success clears the lockee's record.
    pub(super) fn record_success(&self, lockee: &Lockee<'_>) {
        self.entries().remove(&lockee.key());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hallpass_core::clock::ManualClock;

    #[test]
    fn lockees_lock_after_consecutive_failures_for_growing_times() {
        let clock = Arc::new(ManualClock::new(OffsetDateTime::UNIX_EPOCH));
        let lockout = Lockout::new(clock.clone(), 3, Duration::from_secs(900));
        let alice = Lockee::Account("alice");
        lockout.record_failure(&alice);
        lockout.record_failure(&alice);
        assert!(lockout.check(&alice).is_ok());
        lockout.record_failure(&alice);
        assert!(
            matches!(lockout.check(&alice), Err(Limited { retry_after }) if retry_after == Duration::from_secs(30))
        );
        assert!(lockout.check(&Lockee::Account("bob")).is_ok());
        assert!(
            lockout
                .check(&Lockee::Device(DeviceId::from_random([1; 16])))
                .is_ok()
        );
        clock.advance(time::Duration::seconds(30));
        assert!(lockout.check(&alice).is_ok());
        lockout.record_failure(&alice);
        assert!(
            matches!(lockout.check(&alice), Err(Limited { retry_after }) if retry_after == Duration::from_secs(60))
        );
        for _ in 0..30 {
            lockout.record_failure(&alice);
        }
        assert!(
            matches!(lockout.check(&alice), Err(Limited { retry_after }) if retry_after == Duration::from_secs(900))
        );
        lockout.record_success(&alice);
        assert!(lockout.check(&alice).is_ok());
    }
}
