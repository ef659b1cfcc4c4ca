//! Tokens already verified, so a repeat presentation skips the signature check (~80 µs of CPU
//! for Ed25519 here). Keyed by the full token text; expiry and revocation are still checked on
//! every use by the caller.

use std::{
    collections::HashMap,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
};

use hallpass_core::token::AccessClaims;

/// The cache, bounded in entries.
#[derive(Debug)]
pub struct VerifiedTokens {
    capacity: usize,
    entries: RwLock<HashMap<Box<str>, Arc<AccessClaims>>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl VerifiedTokens {
    /// An empty cache holding at most `capacity` tokens.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: RwLock::new(HashMap::new()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The claims of a token verified before.
    pub fn get(&self, token: &str) -> Option<Arc<AccessClaims>> {
        let found = self
            .entries
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(token)
            .cloned();
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Remembers a verified token.
    pub fn insert(&self, token: &str, claims: Arc<AccessClaims>) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.capacity
            && let Some(victim) = entries.keys().next().cloned()
        {
            entries.remove(&victim);
        }
        entries.insert(token.into(), claims);
    }

    /// Drops tokens expired at `now` (seconds).
    pub fn prune(&self, now: i64) {
        self.entries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, claims| claims.exp > now);
    }

    /// Entries held, hits and misses so far.
    pub fn stats(&self) -> (usize, u64, u64) {
        (
            self.entries.read().unwrap_or_else(|p| p.into_inner()).len(),
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }
}
