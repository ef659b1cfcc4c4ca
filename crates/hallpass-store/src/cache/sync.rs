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

    /// Tells the other nodes, after the store write. A lost message is repaired by reconcile.
    pub(super) async fn tell_others(
        &self,
        sessions: &[SessionId],
        users: &[UserId],
        at: OffsetDateTime,
    ) {
        if sessions.is_empty() && users.is_empty() {
            return;
        }
        let event = BusEvent {
            node: self.node,
            sessions: sessions.iter().map(|s| s.0).collect(),
            users: users.iter().map(|u| u.0).collect(),
            at: to_micros(at),
        };
        if let Err(error) = self.bus.publish(&event).await {
            tracing::warn!(error = %error, bus = self.bus.name(), "publishing a revocation failed; the reconcile will carry it");
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
