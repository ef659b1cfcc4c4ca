//! A node's revoked set (DESIGN §7): the sessions revoked recently enough that an access token
//! issued for them may still be unexpired. Checking it costs no I/O; entries expire by
//! themselves, so memory is bounded by recent revocations, not by tokens.
//!
//! Every revocation a node learns of passes through here (its own writes, the bus, the
//! reconcile), so this is also where pages listening for their session's end are told.

use std::{collections::HashMap, sync::RwLock};

use hallpass_core::session::SessionId;
use time::{Duration, OffsetDateTime};
use tokio::sync::broadcast;

use crate::{StoreError, Stores};

/// Recently revoked sessions, each kept until no access token of it can still be valid.
#[derive(Debug)]
pub struct RevokedSessions {
    /// How long after a revocation its tokens may still verify: access-token TTL + clock skew.
    horizon: Duration,
    entries: RwLock<HashMap<SessionId, OffsetDateTime>>,
    /// Each newly revoked session, for whoever listens (live session-end notices).
    ended: broadcast::Sender<SessionId>,
}

/// How many revocations a slow listener may fall behind before it is told it lagged (and must
/// re-check its session with [`RevokedSessions::contains`]).
const ENDED_BACKLOG: usize = 1024;

impl RevokedSessions {
    /// An empty set whose entries last `horizon`.
    pub fn new(horizon: Duration) -> Self {
        Self {
            horizon,
            entries: RwLock::new(HashMap::new()),
            ended: broadcast::channel(ENDED_BACKLOG).0,
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
            // No listener is not an error: nobody is watching a session right now.
            let _ = self.ended.send(id);
        }
    }

    /// A receiver of every session revoked from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<SessionId> {
        self.ended.subscribe()
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

    #[test]
    fn listeners_hear_each_revocation_once() {
        let t0 = OffsetDateTime::UNIX_EPOCH + Duration::days(1);
        let set = RevokedSessions::new(Duration::minutes(15));
        let mut ended = set.subscribe();
        let a = SessionId(Uuid::from_u128(1));
        let b = SessionId(Uuid::from_u128(2));
        set.insert(a, t0);
        set.insert(a, t0 + Duration::minutes(1));
        set.insert(b, t0);
        assert_eq!(ended.try_recv().ok(), Some(a));
        assert_eq!(
            ended.try_recv().ok(),
            Some(b),
            "a repeated revocation is not news"
        );
        assert!(ended.try_recv().is_err());
    }
}
