//! How many board posts an account may publish per minute, counted on this node (the fallback
//! when Redis is not configured or unreachable).
//!
//! Windows are whole minutes of the injected clock: simple to share through Redis (one counter
//! per account and minute) and exact to test. A client may publish twice the budget across a
//! minute boundary; that bounds a flood just as well.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use hallpass_core::user::UserId;

/// Accounts tracked at once; past this, counts of past minutes are forgotten first.
const MAX_TRACKED: usize = 100_000;

/// The minute `now_ms` (unix milliseconds) falls in, and how long until the next one.
pub(super) fn window(now_ms: i64) -> (i64, Duration) {
    let minute = now_ms.div_euclid(60_000);
    let left = u64::try_from((minute + 1) * 60_000 - now_ms).unwrap_or(60_000);
    (
        minute,
        Duration::from_millis(left).max(Duration::from_secs(1)),
    )
}

/// Posts per account in the current minute.
#[derive(Default)]
pub(super) struct PostCounts {
    counts: Mutex<HashMap<UserId, (i64, u32)>>,
}

impl PostCounts {
    /// Counts one post of `author` in `minute`; the count so far, this one included.
    pub(super) fn hit(&self, author: UserId, minute: i64) -> u32 {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if counts.len() >= MAX_TRACKED {
            counts.retain(|_, (at, _)| *at == minute);
            if counts.len() >= MAX_TRACKED {
                counts.clear();
            }
        }
        let entry = counts.entry(author).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_clock_minutes() {
        assert_eq!(window(0), (0, Duration::from_secs(60)));
        assert_eq!(window(59_500), (0, Duration::from_secs(1)));
        assert_eq!(window(61_000), (1, Duration::from_secs(59)));
        assert_eq!(window(-1).0, -1);
    }

    #[test]
    fn counts_start_again_each_minute() {
        let counts = PostCounts::default();
        let alice = UserId(uuid::Uuid::from_u128(1));
        assert_eq!(counts.hit(alice, 5), 1);
        assert_eq!(counts.hit(alice, 5), 2);
        assert_eq!(counts.hit(UserId(uuid::Uuid::from_u128(2)), 5), 1);
        assert_eq!(counts.hit(alice, 6), 1);
    }
}
