//! The cache's maps: by token hash, with indexes by session and by user for invalidation.

use std::collections::{HashMap, HashSet};

use hallpass_core::{
    session::{Session, SessionId},
    user::{User, UserId},
};
use time::OffsetDateTime;

#[derive(Clone)]
pub(super) struct Entry {
    pub(super) session: Session,
    pub(super) user: User,
    pub(super) loaded_at: OffsetDateTime,
}

#[derive(Default)]
pub(super) struct Index {
    /// Bumped by every invalidation. A miss records it before reading the database and caches
    /// its result only if it has not moved, so a revocation that lands between the read and the
    /// insert cannot be papered over by the stale row.
    pub(super) generation: u64,
    pub(super) by_hash: HashMap<[u8; 32], Entry>,
    pub(super) by_session: HashMap<SessionId, [u8; 32]>,
    pub(super) by_user: HashMap<UserId, HashSet<[u8; 32]>>,
}

impl Index {
    pub(super) fn insert(&mut self, hash: [u8; 32], entry: Entry) {
        self.by_session.insert(entry.session.id, hash);
        self.by_user.entry(entry.user.id).or_default().insert(hash);
        self.by_hash.insert(hash, entry);
    }

    /// Drops an entry without counting it as an invalidation (replacement, capacity eviction).
    pub(super) fn detach(&mut self, hash: &[u8; 32]) {
        if let Some(entry) = self.by_hash.remove(hash) {
            self.by_session.remove(&entry.session.id);
            if let Some(hashes) = self.by_user.get_mut(&entry.user.id) {
                hashes.remove(hash);
                if hashes.is_empty() {
                    self.by_user.remove(&entry.user.id);
                }
            }
        }
    }

    pub(super) fn remove_session(&mut self, id: SessionId) {
        self.generation += 1;
        if let Some(hash) = self.by_session.get(&id).copied() {
            self.detach(&hash);
        }
    }

    pub(super) fn remove_user(&mut self, user: UserId) {
        self.generation += 1;
        for hash in self.by_user.remove(&user).unwrap_or_default() {
            if let Some(entry) = self.by_hash.remove(&hash) {
                self.by_session.remove(&entry.session.id);
            }
        }
    }
}
