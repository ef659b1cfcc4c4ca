//! A per-node cache of live sessions, so a steady-state cookie request makes no database round
//! trip (docs/design.md §1). It wraps the real stores: every write that can end a session or change its
//! user goes through the wrapper and drops the affected entries, so on one node a revocation,
//! a disabled account or a new role takes effect at once. Entries also expire after `max_age`,
//! which bounds how long a revocation made by *another* node can go unseen.
//!
//! While the database is unreachable, an entry past `max_age` is still served for up to
//! `outage_grace` after it was loaded: revocations keep arriving over the bus and drop entries
//! as usual, so what a node serves from memory is at most that old, never a session the bus
//! said was revoked (docs/operations.md, "Database outages").

mod email;
mod index;
mod outage;
mod sessions;
mod sync;
mod users;

use std::sync::{
    Arc, RwLock,
    atomic::{AtomicU64, Ordering},
};

use hallpass_core::{
    clock::Clock,
    session::{Session, SessionId},
    user::{User, UserId},
};
use index::{Entry, Index};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{RevokedSessions, StoreError, bus::RevocationBus, stores::Stores};

/// How long entries are trusted and how many are kept.
#[derive(Debug, Clone, Copy)]
pub struct CachePolicy {
    /// How long an entry is served before it is read again. Zero caches nothing (revocations
    /// are still recorded).
    pub max_age: Duration,
    /// Entries held at most.
    pub capacity: usize,
    /// How long after loading an entry may still be served while the store is unreachable.
    pub outage_grace: Duration,
}

/// The session cache: sizes and the clock it ages entries by.
pub struct SessionCache {
    inner: Stores,
    /// Round trips to the store made through the wrapper (misses, writes, lists).
    store_calls: AtomicU64,
    /// Activity noted but not yet written (session → latest time seen).
    pending_touches: std::sync::Mutex<std::collections::HashMap<SessionId, OffsetDateTime>>,
    revoked: Arc<RevokedSessions>,
    bus: Arc<dyn RevocationBus>,
    /// This node's id on the bus, so it skips its own events.
    node: Uuid,
    clock: Arc<dyn Clock>,
    max_age: Duration,
    capacity: usize,
    outage_grace: Duration,
    outage: outage::Breaker,
    index: RwLock<Index>,
}

impl SessionCache {
    /// Wraps `inner`'s users, sessions and email; audit, keys, posts, identities and health pass
    /// straight through (linking or unlinking an identity changes no user row a cached session
    /// holds). Email passes through too, except the writes that change a user row (a password
    /// reset, a confirmed address), which drop the user's entries like the account writes. Every
    /// session revoked through the wrapper also lands in `revoked`.
    pub fn wrap(
        inner: Stores,
        revoked: Arc<RevokedSessions>,
        bus: Arc<dyn RevocationBus>,
        clock: Arc<dyn Clock>,
        policy: CachePolicy,
    ) -> (Stores, Arc<Self>) {
        let cache = Arc::new(Self {
            inner: inner.clone(),
            store_calls: AtomicU64::new(0),
            pending_touches: std::sync::Mutex::default(),
            revoked,
            bus,
            node: Uuid::new_v4(),
            clock,
            max_age: policy.max_age,
            capacity: policy.capacity.max(1),
            outage_grace: policy.outage_grace,
            outage: outage::Breaker::default(),
            index: RwLock::new(Index::default()),
        });
        let stores = Stores {
            users: cache.clone(),
            sessions: cache.clone(),
            audit: inner.audit,
            keys: inner.keys,
            posts: inner.posts,
            identities: inner.identities,
            email: cache.clone(),
            outbox: inner.outbox,
            factors: inner.factors,
            health: inner.health,
        };
        (stores, cache)
    }

    /// The wrapped stores, counting the call: every use is one round trip.
    fn store(&self) -> &Stores {
        self.store_calls.fetch_add(1, Ordering::Relaxed);
        &self.inner
    }

    /// Store round trips made through the wrapper so far: a steady-state authenticated request
    /// makes none.
    pub fn store_calls(&self) -> u64 {
        self.store_calls.load(Ordering::Relaxed)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Index> {
        self.index
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Index> {
        self.index
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn forget_user(&self, user: UserId) {
        self.write().remove_user(user);
    }

    /// Caches a row just read (if live and nothing was invalidated meanwhile), or forgets `hash`.
    fn remember(
        &self,
        generation: u64,
        hash: [u8; 32],
        found: Option<&(Session, User)>,
        now: OffsetDateTime,
    ) {
        let mut index = self.write();
        index.detach(&hash);
        let Some((session, user)) = found else { return };
        if index.generation != generation
            || session.revoked_at.is_some()
            || user.disabled
            || self.max_age <= Duration::ZERO
        {
            return;
        }
        if index.by_hash.len() >= self.capacity {
            // Full: drop an arbitrary entry; it is reloaded on its next use.
            if let Some(victim) = index.by_hash.keys().next().copied() {
                index.detach(&victim);
            }
        }
        let entry = Entry {
            session: session.clone(),
            user: user.clone(),
            loaded_at: now,
        };
        index.insert(hash, entry);
    }

    /// Drops revoked sessions from the cache and adds them to the revoked set.
    fn revoked_now(&self, ids: &[SessionId], at: OffsetDateTime) {
        if ids.is_empty() {
            return;
        }
        let mut index = self.write();
        for id in ids {
            index.remove_session(*id);
            self.revoked.insert(*id, at);
        }
    }

    /// A row read from the store, with activity this node has noted but not written yet.
    fn with_pending_touch(&self, found: Option<(Session, User)>) -> Option<(Session, User)> {
        found.map(|(mut session, user)| {
            let pending = self
                .pending_touches
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if let Some(at) = pending.get(&session.id) {
                session.last_seen_at = session.last_seen_at.max(*at);
            }
            (session, user)
        })
    }

    /// Writes the activity noted since the last flush, one batch for every session: steady
    /// traffic costs one write per session per touch interval, off the request path.
    pub async fn flush_touches(&self) -> Result<usize, StoreError> {
        let pending: Vec<(SessionId, OffsetDateTime)> = {
            let mut pending = self
                .pending_touches
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            pending.drain().collect()
        };
        let count = pending.len();
        for (id, at) in pending {
            if let Err(error) = self.inner.sessions.touch_session(id, at).await {
                // Put it back for the next flush.
                let mut again = self
                    .pending_touches
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                let entry = again.entry(id).or_insert(at);
                *entry = (*entry).max(at);
                return Err(error);
            }
        }
        Ok(count)
    }

    /// How many sessions are held.
    pub fn len(&self) -> usize {
        self.read().by_hash.len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
