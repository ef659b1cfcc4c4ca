//! `GET /v1/session/events`: a server-sent event stream that tells a page, at once, that its
//! session was revoked (logged out elsewhere, evicted by the session limit, forced out by an
//! administrator), instead of on its next request. Works by cookie (pages, `EventSource`) or
//! Bearer (the SDK reads the stream with `fetch`).
//!
//! The node learns of every revocation through its revoked set, whichever node made it (the
//! bus and the reconcile feed the same set), so a stream on any node hears of it.

use std::{convert::Infallible, time::Duration};

use axum::{
    Router,
    extract::State,
    response::sse::{Event, KeepAlive, Sse},
    routing::get,
};
use futures_util::{Stream, stream};
use hallpass_core::session::SessionId;
use tokio::sync::broadcast::{Receiver, error::RecvError};

use crate::{http::extract::Authenticated, state::AppState};

/// How often an idle stream sends a comment, so proxies and browsers keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The session event stream.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/session/events", get(events))
}

/// Where a stream is in its short life.
enum Phase {
    /// Nothing sent yet.
    Start,
    /// Told the client which session it watches; waiting for its end.
    Watching,
    /// Sent `ended` (or the server is stopping): close.
    Done,
}

async fn events(
    State(state): State<AppState>,
    caller: Authenticated,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let id = caller.session.id;
    // Subscribe before anything else: a revocation between authentication and here is then
    // either in the set already (checked below) or on the channel.
    let ended = state.tokens.revoked.subscribe();
    let watch = Watch { state, id, ended };
    let events = stream::unfold((Phase::Start, watch), |(phase, mut watch)| async move {
        match phase {
            Phase::Start => {
                let data = format!(r#"{{"session":"{}"}}"#, watch.id.0);
                let event = Event::default().event("session").data(data);
                Some((Ok(event), (Phase::Watching, watch)))
            }
            Phase::Watching if watch.until_ended().await => {
                let event = Event::default()
                    .event("ended")
                    .data(r#"{"reason":"revoked"}"#);
                Some((Ok(event), (Phase::Done, watch)))
            }
            Phase::Watching | Phase::Done => None,
        }
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive"))
}

/// One stream's view of the revocations.
struct Watch {
    state: AppState,
    id: SessionId,
    ended: Receiver<SessionId>,
}

impl Watch {
    /// Waits until the session is revoked (true) or the server stops (false).
    async fn until_ended(&mut self) -> bool {
        let revoked = &self.state.tokens.revoked;
        if revoked.contains(self.id, self.state.clock.now()) {
            return true;
        }
        let stopping = self.state.shutdown.wait();
        tokio::pin!(stopping);
        loop {
            tokio::select! {
                () = &mut stopping => return false,
                received = self.ended.recv() => match received {
                    Ok(id) if id == self.id => return true,
                    Ok(_) => {}
                    // Fell behind a burst of revocations: the set itself says whether ours was one.
                    Err(RecvError::Lagged(_)) => {
                        if revoked.contains(self.id, self.state.clock.now()) {
                            return true;
                        }
                    }
                    Err(RecvError::Closed) => return false,
                },
            }
        }
    }
}
