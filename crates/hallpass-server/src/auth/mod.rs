//! The account and session operations, shared by the JSON API and the pages: validate, decide
//! with the core, persist, audit. Handlers only translate HTTP to these calls and back.

pub mod admin;
mod login;
pub mod refresh;
mod sessions;
mod signup;
pub mod social;

pub use login::{LoginOutcome, login, open_session};
pub use sessions::{LogoutScope, change_password, logout, replace_password, revoke_one};
pub use signup::{SignupInput, signup};

use hallpass_core::audit::{AuditEvent, AuditKind};

use crate::{error::ApiError, http::client::Client, state::AppState};

/// `N` bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], ApiError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("no randomness: {e}")))?;
    Ok(bytes)
}

/// An audit event of `kind` now, from `client`.
pub fn event(state: &AppState, kind: AuditKind, client: &Client) -> AuditEvent {
    let mut event = AuditEvent::new(kind, state.clock.now());
    event.ip = Some(client.ip.to_string());
    event
}

/// Appends to the audit log; a failure fails the request, so that nothing happens unrecorded.
pub async fn record(state: &AppState, event: AuditEvent) -> Result<(), ApiError> {
    state.stores.audit.append(&event).await?;
    Ok(())
}
