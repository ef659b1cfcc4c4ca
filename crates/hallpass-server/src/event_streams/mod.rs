//! What keeps session event streams (`GET /v1/session/events`) from costing the node more than
//! it can give: caps on how many are open ([`EventStreamLimits`]), and one shared timer that
//! wakes a stream when its session may have expired ([`Deadlines`]).

mod deadlines;
mod limits;

use std::sync::Arc;

pub use deadlines::{Alarm, Deadlines};
pub use limits::{EventStreamLimits, Refused, StreamPermit};

use crate::config::Settings;

/// The node's open event streams: how many, and when each must look at its session again.
#[derive(Clone, Debug)]
pub struct EventStreams {
    /// Per-session, per-user and node-wide caps.
    pub limits: EventStreamLimits,
    /// The expiry deadlines of open streams, fired by the server's expiry tick.
    pub deadlines: Arc<Deadlines>,
}

impl EventStreams {
    /// Caps from the settings, no stream open.
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            limits: EventStreamLimits::new(
                settings.max_event_streams_per_session,
                settings.max_event_streams_per_user,
                settings.max_event_streams,
            ),
            deadlines: Arc::new(Deadlines::default()),
        }
    }
}
