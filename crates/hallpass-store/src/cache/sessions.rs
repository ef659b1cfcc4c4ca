//! The session store as this node sees it: reads served from the index when fresh (or, during
//! an outage, when within the outage grace), writes passed through and announced.

use std::sync::atomic::Ordering;

use async_trait::async_trait;
use hallpass_core::{
    session::{Session, SessionId, SessionLimit, TokenHash},
    user::{User, UserId},
};
use time::OffsetDateTime;

use super::{SessionCache, sync::Change};
use crate::{RefreshRead, SessionStore, StoreError, stores::Stores};

/// How long a read may take while a stale copy could answer instead.
const STALE_PROBE: std::time::Duration = std::time::Duration::from_millis(500);

/// What the index holds for a lookup.
enum Lookup {
    /// An entry younger than `max_age`: serve it.
    Fresh((Session, User)),
    /// Read the store under `generation`; `stale` may answer if the store is unreachable.
    Miss {
        generation: u64,
        stale: Option<(Session, User)>,
    },
}

/// Where an answer came from.
enum Read {
    /// The store answered.
    Fresh(Option<(Session, User)>),
    /// The store is unreachable; a copy within the outage grace answered.
    Stale((Session, User)),
}

impl SessionCache {
    fn lookup(&self, hash: Option<&[u8; 32]>, now: OffsetDateTime) -> Lookup {
        let index = self.read();
        let entry = hash.and_then(|h| index.by_hash.get(h));
        match entry {
            Some(e) if now - e.loaded_at < self.max_age => {
                Lookup::Fresh((e.session.clone(), e.user.clone()))
            }
            _ => Lookup::Miss {
                generation: index.generation,
                stale: entry
                    .filter(|e| now - e.loaded_at < self.outage_grace)
                    .map(|e| (e.session.clone(), e.user.clone())),
            },
        }
    }

    /// Reads the store, unless it is known to be down and a stale copy can answer. A read that
    /// fails for unavailability falls back on the stale copy; so does one that takes longer than
    /// [`STALE_PROBE`] while a stale copy waits (a database that is down often fails only after
    /// the pool's acquire timeout). A read that lost its connection (a database restart) is
    /// retried once on a fresh one: it is idempotent.
    async fn read_or_stale<'a, F, Fut>(
        &'a self,
        stale: Option<(Session, User)>,
        read: F,
    ) -> Result<Read, StoreError>
    where
        F: Fn(&'a Stores) -> Fut,
        Fut: Future<Output = Result<Option<(Session, User)>, StoreError>>,
    {
        if let Some(stale) = &stale
            && self.outage.is_open()
        {
            return Ok(Read::Stale(stale.clone()));
        }
        let attempt = async {
            self.store_calls.fetch_add(1, Ordering::Relaxed);
            match read(&self.inner).await {
                Err(error) if error.is_connection_lost() => {
                    tracing::debug!(error = %error, "read lost its connection; retrying once");
                    self.store_calls.fetch_add(1, Ordering::Relaxed);
                    read(&self.inner).await
                }
                result => result,
            }
        };
        let result = if stale.is_some() {
            tokio::time::timeout(STALE_PROBE, attempt)
                .await
                .unwrap_or_else(|_| Err(StoreError::TimedOut))
        } else {
            attempt.await
        };
        match result {
            Ok(found) => {
                self.outage.reset();
                Ok(Read::Fresh(found))
            }
            Err(error) if error.is_unavailable() => {
                self.outage.trip();
                match stale {
                    Some(stale) => {
                        tracing::debug!(error = %error, "store unreachable; answering from memory");
                        Ok(Read::Stale(stale))
                    }
                    None => Err(error),
                }
            }
            Err(error) => {
                // The store answered, if with an error: it is up.
                self.outage.reset();
                Err(error)
            }
        }
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
        self.tell_others(&Change {
            revoked: &evicted,
            ..Change::at(session.created_at)
        })
        .await;
        Ok(evicted)
    }

    async fn session_by_token_hash(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<(Session, User)>, StoreError> {
        let now = self.clock.now();
        let (generation, stale) = match self.lookup(Some(&hash.0), now) {
            Lookup::Fresh(found) => return Ok(Some(found)),
            Lookup::Miss { generation, stale } => (generation, stale),
        };
        match self
            .read_or_stale(stale, |stores| async move {
                stores.sessions.session_by_token_hash(hash).await
            })
            .await?
        {
            Read::Stale(found) => Ok(Some(found)),
            Read::Fresh(found) => {
                let found = self.with_pending_touch(found);
                self.remember(generation, hash.0, found.as_ref(), now);
                Ok(found)
            }
        }
    }

    async fn session_by_id(&self, id: SessionId) -> Result<Option<(Session, User)>, StoreError> {
        let now = self.clock.now();
        let cached_hash = self.read().by_session.get(&id).copied();
        let (generation, stale) = match self.lookup(cached_hash.as_ref(), now) {
            Lookup::Fresh(found) => return Ok(Some(found)),
            Lookup::Miss { generation, stale } => (generation, stale),
        };
        match self
            .read_or_stale(stale, |stores| async move {
                stores.sessions.session_by_id(id).await
            })
            .await?
        {
            Read::Stale(found) => Ok(Some(found)),
            Read::Fresh(found) => {
                let found = self.with_pending_touch(found);
                let hash = found.as_ref().map(|(s, _)| s.token_hash.0).or(cached_hash);
                if let Some(hash) = hash {
                    self.remember(generation, hash, found.as_ref(), now);
                }
                Ok(found)
            }
        }
    }

    async fn session_for_refresh(&self, id: SessionId) -> Result<Option<RefreshRead>, StoreError> {
        let now = self.clock.now();
        let generation = self.read().generation;
        let found = self.store().sessions.session_for_refresh(id).await?;
        if let Some(read) = &found {
            // The fresh row replaces whatever this node held, so later reads agree with it.
            let pair = (read.session.clone(), read.user.clone());
            self.remember(generation, read.session.token_hash.0, Some(&pair), now);
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
        {
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
        }
        if rotated {
            // Other nodes drop their copies of the family, so none decides on an old generation.
            self.tell_others(&Change {
                refreshed: &[id],
                ..Change::at(at)
            })
            .await;
        }
        Ok(rotated)
    }

    async fn revoked_since(
        &self,
        since: OffsetDateTime,
    ) -> Result<Vec<(SessionId, UserId, OffsetDateTime)>, StoreError> {
        self.store().sessions.revoked_since(since).await
    }

    async fn reauthenticate(&self, id: SessionId, at: OffsetDateTime) -> Result<bool, StoreError> {
        let done = self.store().sessions.reauthenticate(id, at).await?;
        {
            // The next read takes the new auth_time from the store.
            let mut index = self.write();
            if let Some(hash) = index.by_session.get(&id).copied() {
                index.detach(&hash);
            }
        }
        if done {
            // Other nodes drop their copies too; one that misses this sees the older time,
            // which only ever asks for the password again.
            self.tell_others(&Change {
                refreshed: &[id],
                ..Change::at(at)
            })
            .await;
        }
        Ok(done)
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
            self.tell_others(&Change {
                revoked: &[id],
                ..Change::at(at)
            })
            .await;
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
        self.tell_others(&Change {
            revoked: &revoked,
            ..Change::at(at)
        })
        .await;
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
