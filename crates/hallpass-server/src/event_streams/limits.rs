//! Caps on open event streams, counted exactly: a stream holds a [`StreamPermit`] for as long as
//! it is open, and dropping the permit (the client went away, the stream ended, the server is
//! stopping: the response body is dropped in every case) gives its place back.

use std::{
    collections::{HashMap, hash_map::Entry},
    hash::Hash,
    sync::{Arc, Mutex},
};

use hallpass_core::{session::SessionId, user::UserId};

/// Why a stream was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// This session already holds `max_event_streams_per_session`.
    Session,
    /// This user already holds `max_event_streams_per_user`.
    User,
    /// The node already holds `max_event_streams`.
    Node,
}

/// How many streams are open, in total and per session and user; caps of 0 are off.
#[derive(Clone, Debug)]
pub struct EventStreamLimits {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    per_session: u32,
    per_user: u32,
    total: u32,
    counts: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    total: u32,
    sessions: HashMap<SessionId, u32>,
    users: HashMap<UserId, u32>,
}

impl EventStreamLimits {
    /// Caps per session, per user and for the node (0: no cap).
    pub fn new(per_session: u32, per_user: u32, total: u32) -> Self {
        Self {
            inner: Arc::new(Inner {
                per_session,
                per_user,
                total,
                counts: Mutex::new(Counts::default()),
            }),
        }
    }

    /// Admits one more stream of `session` (of `user`), or says which cap it would break.
    /// Checking and counting happen under one lock, so concurrent opens never overshoot.
    pub fn acquire(&self, session: SessionId, user: UserId) -> Result<StreamPermit, Refused> {
        let inner = &self.inner;
        let mut counts = inner.lock();
        let full = |cap: u32, count: u32| cap != 0 && count >= cap;
        // The caller's own caps first: a 429 is theirs to fix, a 503 is the node's.
        if full(
            inner.per_session,
            counts.sessions.get(&session).copied().unwrap_or(0),
        ) {
            return Err(Refused::Session);
        }
        if full(
            inner.per_user,
            counts.users.get(&user).copied().unwrap_or(0),
        ) {
            return Err(Refused::User);
        }
        if full(inner.total, counts.total) {
            return Err(Refused::Node);
        }
        counts.total += 1;
        *counts.sessions.entry(session).or_default() += 1;
        *counts.users.entry(user).or_default() += 1;
        Ok(StreamPermit {
            limits: Arc::clone(&self.inner),
            session,
            user,
        })
    }

    /// Streams open on this node.
    pub fn open(&self) -> u32 {
        self.inner.lock().total
    }

    /// Streams open for one session.
    pub fn open_for_session(&self, session: SessionId) -> u32 {
        self.inner
            .lock()
            .sessions
            .get(&session)
            .copied()
            .unwrap_or(0)
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One open stream's place under the caps; dropping it frees the place.
#[derive(Debug)]
pub struct StreamPermit {
    limits: Arc<Inner>,
    session: SessionId,
    user: UserId,
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut counts = self.limits.lock();
        counts.total = counts.total.saturating_sub(1);
        release(&mut counts.sessions, self.session);
        release(&mut counts.users, self.user);
    }
}

/// One fewer for `key`; keys at zero are removed, so the maps hold only open streams.
fn release<K: Hash + Eq>(map: &mut HashMap<K, u32>, key: K) {
    if let Entry::Occupied(mut entry) = map.entry(key) {
        *entry.get_mut() = entry.get().saturating_sub(1);
        if *entry.get() == 0 {
            entry.remove();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn ids(n: u128) -> (SessionId, UserId) {
        (SessionId(Uuid::from_u128(n)), UserId(Uuid::from_u128(n)))
    }

    #[test]
    fn caps_are_per_session_per_user_and_per_node_and_permits_give_back() {
        let limits = EventStreamLimits::new(2, 3, 4);
        let (s1, alice) = ids(1);
        let (s2, _) = ids(2);
        let (s3, bob) = ids(3);
        let a = limits.acquire(s1, alice).unwrap();
        let b = limits.acquire(s1, alice).unwrap();
        assert_eq!(limits.acquire(s1, alice).unwrap_err(), Refused::Session);
        let c = limits.acquire(s2, alice).unwrap();
        assert_eq!(limits.acquire(s2, alice).unwrap_err(), Refused::User);
        let d = limits.acquire(s3, bob).unwrap();
        assert_eq!(limits.acquire(s3, bob).unwrap_err(), Refused::Node);
        assert_eq!(limits.open(), 4);
        drop(a);
        assert_eq!(limits.open_for_session(s1), 1);
        let again = limits.acquire(s1, alice).unwrap();
        drop((again, b, c, d));
        assert_eq!(limits.open(), 0);
        let counts = limits.inner.lock();
        assert!(
            counts.sessions.is_empty() && counts.users.is_empty(),
            "{counts:?}"
        );
    }

    #[test]
    fn zero_turns_a_cap_off() {
        let limits = EventStreamLimits::new(0, 0, 0);
        let (s, u) = ids(1);
        let permits: Vec<_> = (0..100).map(|_| limits.acquire(s, u).unwrap()).collect();
        assert_eq!(limits.open(), 100);
        drop(permits);
        assert_eq!(limits.open(), 0);
    }

    #[test]
    fn concurrent_opens_never_overshoot() {
        let limits = EventStreamLimits::new(0, 0, 50);
        let admitted = std::sync::atomic::AtomicU32::new(0);
        let all_tried = std::sync::Barrier::new(8);
        std::thread::scope(|scope| {
            for t in 0..8 {
                let (limits, admitted, all_tried) = (&limits, &admitted, &all_tried);
                scope.spawn(move || {
                    let mut held = Vec::new();
                    for i in 0..20 {
                        let (s, u) = ids(t * 100 + i);
                        if let Ok(permit) = limits.acquire(s, u) {
                            admitted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            held.push(permit);
                        }
                    }
                    // Hold the permits until every thread has tried.
                    all_tried.wait();
                    drop(held);
                });
            }
        });
        assert_eq!(admitted.into_inner(), 50);
        assert_eq!(limits.open(), 0);
    }
}
