//! Time, injected: production reads the system clock, tests move a manual one.

use std::sync::Mutex;
use time::{Duration, OffsetDateTime};

/// Where the domain gets "now" from.
pub trait Clock: Send + Sync + 'static {
    /// The current instant, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The operating system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that only moves when told to; for tests of expiry without sleeping.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<OffsetDateTime>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: OffsetDateTime) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    /// Moves the clock forward (or back, with a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut now = self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Truncates to whole microseconds, the precision both store backends keep, so that a value read
/// back compares equal to the value written.
pub fn to_micros(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

/// The inverse of [`to_micros`]; out-of-range values saturate to the far past or future.
pub fn from_micros(micros: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000).unwrap_or_else(|_| {
        let date = if micros < 0 {
            time::Date::MIN
        } else {
            time::Date::MAX
        };
        OffsetDateTime::new_utc(date, time::Time::MIDNIGHT)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros_round_trip_and_saturate() {
        let t = OffsetDateTime::UNIX_EPOCH + Duration::microseconds(1_234_567);
        assert_eq!(from_micros(to_micros(t)), t);
        assert_eq!(from_micros(i64::MAX).year(), 9999);
        assert_eq!(from_micros(i64::MIN).year(), -9999);
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(OffsetDateTime::UNIX_EPOCH);
        assert_eq!(clock.now(), OffsetDateTime::UNIX_EPOCH);
        clock.advance(Duration::hours(1));
        assert_eq!(clock.now(), OffsetDateTime::UNIX_EPOCH + Duration::hours(1));
    }
}
