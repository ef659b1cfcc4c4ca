//! The audit log as the operations write it: every change recorded, or the change fails.

use hallpass_core::audit::{AuditEvent, AuditKind};
use hallpass_store::StoreError;

use crate::{operation::Client, state::AppState};

/// An audit event of `kind` now, from `client`.
pub(crate) fn event(state: &AppState, kind: AuditKind, client: &Client) -> AuditEvent {
    let mut event = AuditEvent::new(kind, state.clock.now());
    event.ip = Some(client.ip.to_string());
    event
}

/// Appends to the audit log; a failure fails the request, so that nothing happens unrecorded.
pub(crate) async fn record(state: &AppState, event: AuditEvent) -> Result<(), StoreError> {
    state.stores.audit.append(&event).await
}
