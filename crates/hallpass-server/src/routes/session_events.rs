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
use hallpass_store::SessionWatch;

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
    // Watch before anything else: a revocation between authentication and here is then either
    // in the revoked set already or sets the watch's flag.
    let watch = Watch {
        session: state.tokens.revoked.watch(id),
        state,
        id,
    };
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

/// One stream's view of its session.
struct Watch {
    state: AppState,
    id: SessionId,
    session: SessionWatch,
}

impl Watch {
    /// Waits until the session is revoked (true) or the server stops (false).
    async fn until_ended(&mut self) -> bool {
        let now = self.state.clock.now();
        tokio::select! {
            () = self.session.ended(now) => true,
            () = self.state.shutdown.wait() => false,
        }
    }
}
