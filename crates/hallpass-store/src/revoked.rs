//! A node's revoked set (docs/design.md §7): the sessions revoked recently enough that an access token
//! issued for them may still be unexpired. Checking it costs no I/O; entries expire by
//! themselves, so memory is bounded by recent revocations, not by tokens.
//!
//! Every revocation a node learns of passes through here (its own writes, the bus, the
//! reconcile), so this is also where pages listening for their session's end are told: each
//! watched session has its own channel, so a revocation wakes only the streams of that session,
//! however many others are open.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, RwLock},
};

use hallpass_core::session::SessionId;
use time::{Duration, OffsetDateTime};
use tokio::sync::watch;

use crate::{StoreError, stores::Stores};

/// Recently revoked sessions, each kept until no access token of it can still be valid.
#[derive(Debug)]
pub struct RevokedSessions {
    /// How long after a revocation its tokens may still verify: access-token TTL + clock skew.
    horizon: Duration,
    entries: RwLock<HashMap<SessionId, OffsetDateTime>>,
    /// The sessions someone is watching (live session-end notices), each with its own flag.
    watched: Mutex<HashMap<SessionId, watch::Sender<bool>>>,
}

impl RevokedSessions {
    /// An empty set whose entries last `horizon`.
    pub fn new(horizon: Duration) -> Self {
        Self {
            horizon,
            entries: RwLock::new(HashMap::new()),
            watched: Mutex::new(HashMap::new()),
        }
    }

    /// Fills the set from the store (at start, and after missing messages): a restart forgets
    /// no revocation.
    pub async fn load(&self, stores: &Stores, now: OffsetDateTime) -> Result<usize, StoreError> {
        let revoked = stores.sessions.revoked_since(now - self.horizon).await?;
        let count = revoked.len();
        for (id, _, at) in revoked {
            self.insert(id, at);
        }
        Ok(count)
    }

    /// How long entries last: access-token lifetime + skew.
    pub fn horizon(&self) -> Duration {
        self.horizon
    }

    /// Records that `id` was revoked at `at`, and tells the listeners if it is news.
    pub fn insert(&self, id: SessionId, at: OffsetDateTime) {
        let until = at + self.horizon;
        let news = {
            let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
            let news = !entries.contains_key(&id);
            let entry = entries.entry(id).or_insert(until);
            *entry = (*entry).max(until);
            news
        };
        if news {
            let watched = self.watched.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(flag) = watched.get(&id) {
                flag.send_replace(true);
            }
        }
    }

    /// Watches one session: [`SessionWatch::ended`] resolves once it is revoked (at once if it
    /// already is). Only this session's revocation wakes the watcher.
    pub fn watch(self: &Arc<Self>, id: SessionId) -> SessionWatch {
        let receiver = {
            let mut watched = self.watched.lock().unwrap_or_else(|p| p.into_inner());
            watched
                .entry(id)
                .or_insert_with(|| watch::channel(false).0)
                .subscribe()
        };
        SessionWatch {
            set: Arc::clone(self),
            id,
            receiver,
        }
    }

    /// How many sessions are being watched (for tests and metrics).
    pub fn watched(&self) -> usize {
        self.watched.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether tokens of `id` must be refused at `now`.
    pub fn contains(&self, id: SessionId, now: OffsetDateTime) -> bool {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        entries.get(&id).is_some_and(|until| now < *until)
    }

    /// Drops entries whose tokens have all expired.
    pub fn prune(&self, now: OffsetDateTime) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        entries.retain(|_, until| now < *until);
    }

    /// How many sessions are held.
    pub fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One watcher of one session's end; dropping it stops watching.
#[derive(Debug)]
pub struct SessionWatch {
    set: Arc<RevokedSessions>,
    id: SessionId,
    receiver: watch::Receiver<bool>,
}

impl SessionWatch {
    /// Resolves once the session is revoked, or at once if it already was at `now` (a revocation
    /// between the caller's check of the session and this watch is not missed: the flag is set
    /// from then on, and the set itself answers for before).
    pub async fn ended(&mut self, now: OffsetDateTime) {
        if self.set.contains(self.id, now) {
            return;
        }
        // The sender lives in the map for as long as this watcher does, so this only returns
        // once the flag is set.
        let _ = self.receiver.wait_for(|ended| *ended).await;
    }
}

impl Drop for SessionWatch {
    fn drop(&mut self) {
        let mut watched = self.set.watched.lock().unwrap_or_else(|p| p.into_inner());
        // This watcher's receiver still counts until the fields drop after this function.
        if watched
            .get(&self.id)
            .is_some_and(|flag| flag.receiver_count() <= 1)
        {
            watched.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn entries_last_the_horizon_and_are_pruned() {
        let t0 = OffsetDateTime::UNIX_EPOCH + Duration::days(1);
        let set = RevokedSessions::new(Duration::minutes(15));
        let a = SessionId(Uuid::from_u128(1));
        set.insert(a, t0);
        assert!(set.contains(a, t0));
        assert!(set.contains(a, t0 + Duration::minutes(14)));
        assert!(!set.contains(a, t0 + Duration::minutes(15)));
        assert!(!set.contains(SessionId(Uuid::from_u128(2)), t0));
        set.insert(a, t0 - Duration::hours(1));
        assert!(
            set.contains(a, t0 + Duration::minutes(14)),
            "an older revocation does not shorten a newer one"
        );
        set.prune(t0 + Duration::minutes(15));
        assert!(set.is_empty());
    }

    #[tokio::test]
    async fn a_watch_wakes_for_its_own_session_only_and_cleans_up() {
        let t0 = OffsetDateTime::UNIX_EPOCH + Duration::days(1);
        let set = Arc::new(RevokedSessions::new(Duration::minutes(15)));
        let a = SessionId(Uuid::from_u128(1));
        let b = SessionId(Uuid::from_u128(2));
        let mut watch_a = set.watch(a);
        let second_a = set.watch(a);
        assert_eq!(set.watched(), 1, "one entry per session");
        set.insert(b, t0);
        assert!(
            !watch_a.receiver.has_changed().unwrap(),
            "another session's end does not wake it"
        );
        set.insert(a, t0);
        watch_a.ended(t0).await;
        drop(second_a);
        assert_eq!(set.watched(), 1, "still watched by the first");
        drop(watch_a);
        assert_eq!(
            set.watched(),
            0,
            "the last watcher leaving removes the entry"
        );
        // Watching a session that is already revoked ends at once.
        set.watch(b).ended(t0).await;
    }
}
