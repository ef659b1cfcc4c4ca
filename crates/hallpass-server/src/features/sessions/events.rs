//! `GET /v1/session/events`: a server-sent event stream that tells a page, at once, that its
//! session ended: revoked (logged out elsewhere, evicted by the session limit, forced out by an
//! administrator) or expired (idle or absolute expiry), instead of on its next request. Works by
//! cookie (pages, `EventSource`) or Bearer (the SDK reads the stream with `fetch`).
//!
//! The node learns of every revocation through its revoked set, whichever node made it (the
//! bus and the reconcile feed the same set), so a stream on any node hears of it. Expiry is
//! checked at the session's deadline by the node's clock (see [`crate::event_streams`]): an open
//! stream is not activity, but the session's other requests are, so at the idle deadline the
//! session is read again (from the node's cache) and the stream either ends or waits for the
//! new deadline.
//!
//! Streams are capped per session, per user and per node ([`EventStreamLimits`]): over a
//! session's or user's cap the new stream is refused (429), not an old one closed, because the
//! closed one would reconnect and close another in turn (`EventSource` reconnects by itself);
//! a refusal is stable, and `EventSource` does not retry a non-200 answer.
//!
//! [`EventStreamLimits`]: crate::event_streams::EventStreamLimits

use std::{convert::Infallible, time::Duration};

use axum::{
    extract::State,
    response::sse::{Event, KeepAlive, Sse},
};
use futures_util::{Stream, stream};
use hallpass_core::session::{Session, SessionId};
use hallpass_store::SessionWatch;

use crate::{
    error::ApiError,
    event_streams::{Alarm, Refused, StreamPermit},
    http::extract::Authenticated,
    operation::OpError,
    state::AppState,
};

/// How often an idle stream sends a comment, so proxies and browsers keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// When a session or user over its cap may try again: a place frees only when one of its own
/// streams closes, so there is no point in coming back soon.
const RETRY_OVER_CAP: Duration = Duration::from_secs(30);
/// When to try again if the node holds all the streams it takes.
const RETRY_OVERLOADED: Duration = Duration::from_secs(10);
/// If the session cannot be read at its deadline, when (by the server's clock) to try again.
const RECHECK_AFTER_ERROR: time::Duration = time::Duration::seconds(30);

/// Where a stream is in its short life.
enum Phase {
    /// Nothing sent yet.
    Start,
    /// Told the client which session it watches; waiting for its end.
    Watching,
    /// Sent `ended` (or the server is stopping): close.
    Done,
}

/// Why a session ended, as the `ended` event says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    Revoked,
    Expired,
}

impl Ended {
    fn data(self) -> &'static str {
        match self {
            Self::Revoked => r#"{"reason":"revoked"}"#,
            Self::Expired => r#"{"reason":"expired"}"#,
        }
    }
}

pub(crate) async fn events(
    State(state): State<AppState>,
    caller: Authenticated,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let id = caller.session.id;
    let permit = state
        .event_streams
        .limits
        .acquire(id, caller.user.id)
        .map_err(|refused| match refused {
            Refused::Session | Refused::User => OpError::RateLimited {
                retry_after: RETRY_OVER_CAP,
            },
            Refused::Node => OpError::Overloaded {
                retry_after: RETRY_OVERLOADED,
            },
        })?;
    // Watch before anything else: a revocation between authentication and here is then either
    // in the revoked set already or sets the watch's flag.
    let session = state.tokens.revoked.watch(id);
    let mut alarm = state.event_streams.deadlines.alarm();
    alarm.set(state.config.session_policy.expires_at(&caller.session));
    let watch = Watch {
        session,
        alarm,
        state,
        id,
        _permit: permit,
    };
    let events = stream::unfold((Phase::Start, watch), |(phase, mut watch)| async move {
        match phase {
            Phase::Start => {
                let data = format!(r#"{{"session":"{}"}}"#, watch.id.0);
                let event = Event::default().event("session").data(data);
                Some((Ok(event), (Phase::Watching, watch)))
            }
            Phase::Watching => {
                let ended = watch.until_ended().await?;
                let event = Event::default().event("ended").data(ended.data());
                Some((Ok(event), (Phase::Done, watch)))
            }
            Phase::Done => None,
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive")))
}

/// One stream's view of its session. Holds its place under the caps until dropped, which
/// happens however the stream ends (ended, client gone, server stopping).
struct Watch {
    state: AppState,
    id: SessionId,
    session: SessionWatch,
    alarm: Alarm,
    _permit: StreamPermit,
}

impl Watch {
    /// Waits until the session is revoked or expires, or (`None`) the server stops.
    async fn until_ended(&mut self) -> Option<Ended> {
        let stopping = self.state.shutdown.wait();
        tokio::pin!(stopping);
        loop {
            let now = self.state.clock.now();
            tokio::select! {
                () = self.session.ended(now) => return Some(Ended::Revoked),
                () = self.alarm.rung() => {
                    if let Some(ended) = self.recheck().await {
                        return Some(ended);
                    }
                }
                () = &mut stopping => return None,
            }
        }
    }

    /// At the deadline: reads the session again (the node's cache answers, with the latest
    /// activity it has seen) and says whether it ended, or sets the alarm for its new deadline.
    async fn recheck(&mut self) -> Option<Ended> {
        let now = self.state.clock.now();
        match self.state.stores.sessions.session_by_id(self.id).await {
            Ok(Some((session, user))) if session.revoked_at.is_none() && !user.disabled => {
                self.expired_or_rearm(&session, now)
            }
            Ok(_) => Some(Ended::Revoked),
            Err(error) => {
                // Not the session's fault: keep the stream, look again a little later.
                tracing::warn!(error = ?error, "reading a session for its event stream failed");
                self.alarm.set(now + RECHECK_AFTER_ERROR);
                None
            }
        }
    }

    fn expired_or_rearm(&mut self, session: &Session, now: time::OffsetDateTime) -> Option<Ended> {
        let expires_at = self.state.config.session_policy.expires_at(session);
        if now >= expires_at {
            return Some(Ended::Expired);
        }
        self.alarm.set(expires_at);
        None
    }
}
