//! What a running node does besides answering requests: rotating keys, reconciling
//! revocations, comparing clocks, writing session activity, purging, ending expired streams.

use std::time::Duration;

use crate::state::AppState;

/// How often keys are rotated and reloaded and expired revocations dropped.
const MAINTENANCE_TICK: Duration = Duration::from_secs(60);
/// How often noted session activity is written to the store.
const TOUCH_FLUSH: Duration = Duration::from_secs(5);
/// How often open session event streams whose session may have expired are woken. Expiry is
/// judged by the server's clock, not wall time, so this bounds how late a stream ends.
const EXPIRY_TICK: Duration = Duration::from_secs(1);
/// Ended sessions are purged (and idle rate-limit state dropped) every this many ticks.
const PURGE_EVERY_TICKS: u64 = 10;
/// Ended sessions stay this long (for the audit trail of "who was logged in") before purging.
const KEEP_ENDED_SESSIONS: time::Duration = time::Duration::days(1);

/// Wakes the event streams whose deadline the clock has passed; the others are not touched.
pub(super) async fn expire_streams(state: AppState) {
    let mut ticks = tokio::time::interval(EXPIRY_TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        state.event_streams.deadlines.fire_due(state.clock.now());
    }
}

pub(super) async fn maintenance(state: AppState) {
    let mut ticks = tokio::time::interval(MAINTENANCE_TICK);
    let mut tick: u64 = 0;
    loop {
        ticks.tick().await;
        tick += 1;
        let now = state.clock.now();
        let keyring = &state.tokens.keyring;
        if let Err(error) = keyring.rotate_if_due(now).await {
            tracing::warn!(error = ?error, "signing key rotation failed");
        }
        // Keys rotated by another node or the CLI arrive here within a tick.
        if let Err(error) = keyring.reload(now).await {
            tracing::warn!(error = ?error, "reloading signing keys failed");
        }
        state.tokens.revoked.prune(now);
        state.tokens.verified.prune(now.unix_timestamp());
        if tick % PURGE_EVERY_TICKS == 1 {
            purge(&state, now).await;
        }
    }
}

/// Re-reads recent revocations on an interval, so a message the bus lost delays a revocation by
/// at most `reconcile_interval`.
pub(super) async fn reconcile(state: AppState) {
    let mut ticks =
        tokio::time::interval(state.node.reconcile_every.max(Duration::from_millis(100)));
    loop {
        ticks.tick().await;
        check_clock(&state).await;
        match state.node.cache.reconcile().await {
            Ok(0) => {}
            Ok(missed) => tracing::info!(
                missed,
                "reconcile applied revocations the bus did not carry"
            ),
            Err(error) => tracing::warn!(error = ?error, "reconciling revocations failed"),
        }
    }
}

/// Compares this node's clock with the database's, which every node shares: token expiry and
/// the refresh grace window assume they agree within `clock_skew`. Exported as a metric, and
/// warned about past half the tolerance (docs/operations.md, "Clocks").
pub(super) async fn check_clock(state: &AppState) {
    let before = state.clock.now();
    let database = match state.stores.health.database_time().await {
        Ok(database) => database,
        Err(error) => {
            tracing::debug!(error = %error, "could not read the database's clock");
            return;
        }
    };
    let after = state.clock.now();
    let midpoint = before + (after - before) / 2;
    let offset: time::Duration = midpoint - database;
    state.metrics.set_clock_offset(offset.as_seconds_f64());
    if offset.abs() > state.config.clock_skew / 2 {
        tracing::warn!(
            offset_seconds = offset.as_seconds_f64(),
            clock_skew = %state.config.clock_skew,
            "this node's clock disagrees with the database's by more than half of clock_skew; \
             tokens may be refused or live too long, refresh grace windows narrow"
        );
    }
}

/// Writes the session activity noted since the last flush, in one batch.
pub(super) async fn flush_touches(state: AppState) {
    let mut ticks = tokio::time::interval(TOUCH_FLUSH);
    loop {
        ticks.tick().await;
        if let Err(error) = state.node.cache.flush_touches().await {
            tracing::warn!(error = ?error, "writing session activity failed; retrying next time");
        }
    }
}

async fn purge(state: &AppState, now: time::OffsetDateTime) {
    let policy = &state.config.session_policy;
    let horizon = now - KEEP_ENDED_SESSIONS;
    match state
        .stores
        .sessions
        .purge_sessions(horizon, policy.idle_cutoff(horizon))
        .await
    {
        Ok(0) => {}
        Ok(purged) => tracing::info!(purged, "purged ended sessions"),
        Err(error) => tracing::warn!(error = ?error, "purging ended sessions failed"),
    }
    match state.stores.outbox.purge_mail(horizon).await {
        Ok(0) => {}
        Ok(purged) => tracing::info!(purged, "purged delivered mail"),
        Err(error) => tracing::warn!(error = ?error, "purging delivered mail failed"),
    }
    match state.stores.email.purge_email_tokens(horizon).await {
        Ok(0) => {}
        Ok(purged) => tracing::info!(purged, "purged expired email tokens"),
        Err(error) => tracing::warn!(error = ?error, "purging expired email tokens failed"),
    }
    state.limits.forget_idle();
}
