//! A per-node cache of live sessions, so a steady-state cookie request makes no database round
//! trip (DESIGN §1). It wraps the real stores: every write that can end a session or change its
//! user goes through the wrapper and drops the affected entries, so on one node a revocation,
//! a disabled account or a new role takes effect at once. Entries also expire after `max_age`,
//! which bounds how long a revocation made by *another* node can go unseen.

mod index;
mod sync;
mod users;

use std::sync::{
    Arc, RwLock,
    atomic::{AtomicU64, Ordering},
};

use async_trait::async_trait;
use hallpass_core::{
    clock::Clock,
    session::{Session, SessionId, SessionLimit, TokenHash},
    user::{User, UserId},
};
use index::{Entry, Index};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{RevokedSessions, SessionStore, StoreError, Stores, bus::RevocationBus};

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
    index: RwLock<Index>,
}

impl SessionCache {
    /// Wraps `inner`'s users and sessions; audit, keys, posts, identities and health pass straight
    /// through (linking or unlinking an identity changes no user row a cached session holds). Every
    /// session revoked through the wrapper also lands in `revoked`. A `max_age` of zero caches
    /// nothing (the revocations are still recorded).
    pub fn wrap(
        inner: Stores,
        revoked: Arc<RevokedSessions>,
        bus: Arc<dyn RevocationBus>,
        clock: Arc<dyn Clock>,
        max_age: Duration,
        capacity: usize,
    ) -> (Stores, Arc<Self>) {
        let cache = Arc::new(Self {
            inner: inner.clone(),
            store_calls: AtomicU64::new(0),
            pending_touches: std::sync::Mutex::default(),
            revoked,
            bus,
            node: Uuid::new_v4(),
            clock,
            max_age,
            capacity: capacity.max(1),
            index: RwLock::new(Index::default()),
        });
        let stores = Stores {
            users: cache.clone(),
            sessions: cache.clone(),
            audit: inner.audit,
            keys: inner.keys,
            posts: inner.posts,
            identities: inner.identities,
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

#[async_trait]
impl SessionStore for SessionCache {
    async fn create_session(
        &self,
        session: &Session,
        limit: Option<SessionLimit>,
        idle_cutoff: OffsetDateTime,
    ) -> Result<Vec<SessionId>, StoreError> {
        let evicted = self
            .store()
            .sessions
            .create_session(session, limit, idle_cutoff)
            .await?;
        // Evicted by the session limit: revoked like any other, here and on every node.
        self.revoked_now(&evicted, session.created_at);
        self.tell_others(&evicted, &[], session.created_at).await;
        Ok(evicted)
    }

    async fn session_by_token_hash(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<(Session, User)>, StoreError> {
        let now = self.clock.now();
        let generation = {
            let index = self.read();
            if let Some(entry) = index
                .by_hash
                .get(&hash.0)
                .filter(|e| now - e.loaded_at < self.max_age)
            {
                return Ok(Some((entry.session.clone(), entry.user.clone())));
            }
            index.generation
        };
        let found =
            self.with_pending_touch(self.store().sessions.session_by_token_hash(hash).await?);
        self.remember(generation, hash.0, found.as_ref(), now);
        Ok(found)
    }

    async fn session_by_id(&self, id: SessionId) -> Result<Option<(Session, User)>, StoreError> {
        let now = self.clock.now();
        let (generation, cached_hash) = {
            let index = self.read();
            let hash = index.by_session.get(&id).copied();
            if let Some(entry) = hash
                .and_then(|h| index.by_hash.get(&h))
                .filter(|e| now - e.loaded_at < self.max_age)
            {
                return Ok(Some((entry.session.clone(), entry.user.clone())));
            }
            (index.generation, hash)
        };
        let found = self.with_pending_touch(self.store().sessions.session_by_id(id).await?);
        let hash = found.as_ref().map(|(s, _)| s.token_hash.0).or(cached_hash);
        if let Some(hash) = hash {
            self.remember(generation, hash, found.as_ref(), now);
        }
        Ok(found)
    }

    async fn rotate_refresh(
        &self,
        id: SessionId,
        from: u64,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let rotated = self.store().sessions.rotate_refresh(id, from, at).await?;
        let mut index = self.write();
        if let Some(hash) = index.by_session.get(&id).copied() {
            match index
                .by_hash
                .get_mut(&hash)
                .and_then(|e| e.session.refresh.as_mut())
            {
                Some(family) if rotated && family.state.generation == from => {
                    family.state.generation = from + 1;
                    family.state.rotated_at = at;
                }
                // Someone else moved the family: forget our copy, the next read sees theirs.
                _ => index.detach(&hash),
            }
        }
        Ok(rotated)
    }

    async fn revoked_since(
        &self,
        since: OffsetDateTime,
    ) -> Result<Vec<(SessionId, UserId, OffsetDateTime)>, StoreError> {
        self.store().sessions.revoked_since(since).await
    }

    async fn touch_session(
        &self,
        id: SessionId,
        seen_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        // Batched: noted here, written by `flush_touches` with every other session's.
        {
            let mut pending = self
                .pending_touches
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let at = pending.entry(id).or_insert(seen_at);
            *at = (*at).max(seen_at);
        }
        let mut index = self.write();
        if let Some(hash) = index.by_session.get(&id).copied()
            && let Some(entry) = index.by_hash.get_mut(&hash)
        {
            entry.session.last_seen_at = entry.session.last_seen_at.max(seen_at);
        }
        Ok(())
    }

    async fn sessions_of_user(
        &self,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<Vec<Session>, StoreError> {
        self.store().sessions.sessions_of_user(user, now).await
    }

    async fn revoke_session(
        &self,
        owner: UserId,
        id: SessionId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let revoked = self.store().sessions.revoke_session(owner, id, at).await?;
        if revoked {
            self.revoked_now(&[id], at);
            self.tell_others(&[id], &[], at).await;
        } else {
            self.write().remove_session(id);
        }
        Ok(revoked)
    }

    async fn revoke_user_sessions(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        at: OffsetDateTime,
    ) -> Result<Vec<SessionId>, StoreError> {
        let revoked = self
            .store()
            .sessions
            .revoke_user_sessions(user, keep, at)
            .await?;
        self.revoked_now(&revoked, at);
        self.tell_others(&revoked, &[], at).await;
        Ok(revoked)
    }

    async fn count_live_sessions(
        &self,
        now: OffsetDateTime,
        idle_cutoff: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        self.inner
            .sessions
            .count_live_sessions(now, idle_cutoff)
            .await
    }

    async fn purge_sessions(
        &self,
        before: OffsetDateTime,
        idle_cutoff: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        self.inner
            .sessions
            .purge_sessions(before, idle_cutoff)
            .await
    }
}
