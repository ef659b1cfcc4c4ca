//! Keeping in step with the other nodes: publishing this node's revocations and user changes,
//! applying theirs, and re-reading recent revocations from the store.

use std::sync::Arc;

use hallpass_core::{
    clock::{from_micros, to_micros},
    session::SessionId,
    user::UserId,
};
use time::OffsetDateTime;

use super::SessionCache;
use crate::{
    StoreError,
    bus::{BusEvent, BusHandler},
};

impl SessionCache {
    /// Starts receiving other nodes' events.
    pub fn listen(self: &Arc<Self>) {
        self.bus.listen(Arc::new(Receiver(Arc::clone(self))));
    }

    /// Re-reads recent revocations from the store and applies those this node missed: at start,
    /// after a bus reconnection, and on the reconcile interval.
    pub async fn reconcile(&self) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let revoked = self
            .inner
            .sessions
            .revoked_since(now - self.revoked.horizon())
            .await?;
        let mut missed = 0;
        let mut index = self.write();
        for (id, _, at) in revoked {
            if !self.revoked.contains(id, now) {
                missed += 1;
                index.remove_session(id);
                self.revoked.insert(id, at);
            }
        }
        Ok(missed)
    }

    /// Tells the other nodes, after the store write. A lost message is repaired by reconcile
    /// (a lost `refreshed` needs no repair: refreshes read the store, never a cached copy).
    pub(super) async fn tell_others(&self, change: &Change<'_>) {
        if change.revoked.is_empty() && change.users.is_empty() && change.refreshed.is_empty() {
            return;
        }
        let event = BusEvent {
            node: self.node,
            sessions: change.revoked.iter().map(|s| s.0).collect(),
            users: change.users.iter().map(|u| u.0).collect(),
            refreshed: change.refreshed.iter().map(|s| s.0).collect(),
            at: to_micros(change.at),
        };
        if let Err(error) = self.bus.publish(&event).await {
            tracing::warn!(error = %error, bus = self.bus.name(), "publishing a revocation failed; the reconcile will carry it");
        }
    }
}

/// What a write changed, for the other nodes.
pub(super) struct Change<'a> {
    /// Sessions revoked.
    pub(super) revoked: &'a [SessionId],
    /// Users whose cached copies are stale.
    pub(super) users: &'a [UserId],
    /// Sessions whose refresh family rotated.
    pub(super) refreshed: &'a [SessionId],
    /// When.
    pub(super) at: OffsetDateTime,
}

impl Change<'_> {
    /// Nothing changed yet, at `at`.
    pub(super) fn at(at: OffsetDateTime) -> Self {
        Change {
            revoked: &[],
            users: &[],
            refreshed: &[],
            at,
        }
    }
}

/// Applies other nodes' events to this node.
struct Receiver(Arc<SessionCache>);

impl BusHandler for Receiver {
    fn event(&self, event: BusEvent) {
        let cache = &self.0;
        if event.node == cache.node {
            return;
        }
        let at = from_micros(event.at);
        let mut index = cache.write();
        for id in event.sessions {
            index.remove_session(SessionId(id));
            cache.revoked.insert(SessionId(id), at);
        }
        for user in event.users {
            index.remove_user(UserId(user));
        }
        for id in event.refreshed {
            index.remove_session(SessionId(id));
        }
    }

    fn reconnected(&self) {
        let cache = Arc::clone(&self.0);
        tokio::spawn(async move {
            match cache.reconcile().await {
                Ok(0) => {}
                Ok(missed) => {
                    tracing::info!(missed, "reconciled revocations after a bus reconnection")
                }
                Err(error) => tracing::warn!(error = %error, "reconciling revocations failed"),
            }
        });
    }
}
