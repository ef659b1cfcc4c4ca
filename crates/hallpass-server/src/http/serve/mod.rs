//! Our own accept loop in place of `axum::serve`, which has no header-read timeout, no idle
//! timeout and no connection cap: idle and slowloris sockets were never closed, and enough of
//! them ran the process out of file descriptors (issue 11).
//!
//! Each accepted socket is admitted against a total cap and a per-address cap, or closed at
//! once. An admitted one is served by hyper's HTTP/1 with a header-read timeout, and closed
//! gracefully once no request has been in flight on it for the keep-alive timeout.

mod limits;

use std::{
    convert::Infallible,
    net::SocketAddr,
    pin::pin,
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{Router, body::Body, extract::Request, response::Response};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto,
};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::{mpsc, watch},
    time::Instant,
};
use tower::{Service, ServiceExt};

use crate::telemetry::Metrics;
pub(crate) use limits::ConnectionLimits;
use limits::{Admission, Slot};

/// How long the accept loop waits after an error such as EMFILE: long enough not to spin, short
/// enough to resume as soon as descriptors are free again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// Repeated warnings (accept errors, caps reached) are logged at most this often.
const WARN_EVERY: Duration = Duration::from_secs(1);

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting, asks every
/// connection to finish (idle ones close at once, busy ones after their response) and waits.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    metrics: Metrics,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
    // `http1_only` with `serve_connection` (not `_with_upgrades`, which always sniffs for the
    // HTTP/2 preface first, outside any timeout) starts hyper's header timer on the first poll,
    // so a socket that sends nothing is closed too. Nothing here upgrades connections.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let builder = Arc::new(builder);
    let admission = Arc::new(Admission::new(&limits, metrics.clone()));
    let mut make_service = app.into_make_service_with_connect_info::<SocketAddr>();
    let (stop_tx, stop_rx) = watch::channel(false);
    // Every connection task holds a sender; `recv` returns once the last one has ended.
    let (running_tx, mut running_rx) = mpsc::channel::<Infallible>(1);
    let mut accept_errors = Throttle::default();
    let mut refusals = Throttle::default();
    let mut shutdown = pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) if is_connection_error(&error) => continue,
            Err(error) => {
                // EMFILE and friends: the pending connection stays in the backlog, and retrying
                // at once would spin. Back off briefly, and say so once a second at most.
                if let Some(suppressed) = accept_errors.ready() {
                    tracing::warn!(%error, suppressed, "accepting a connection failed; backing off");
                }
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                }
            }
        };
        let slot = match admission.admit(peer.ip()) {
            Ok(slot) => slot,
            Err(cap) => {
                // Accepted and dropped at once: the backlog keeps moving, and the client sees
                // its connection closed instead of hanging in a queue.
                metrics.connection_refused(cap);
                if let Some(suppressed) = refusals.ready() {
                    tracing::warn!(%peer, cap, suppressed, "connection refused: cap reached");
                }
                drop(stream);
                continue;
            }
        };
        // Always ready and infallible: this only attaches `ConnectInfo(peer)` for handlers.
        let service = match ServiceExt::<SocketAddr>::ready(&mut make_service).await {
            Ok(make) => make.call(peer).await,
            Err(never) => match never {},
        };
        let service = match service {
            Ok(service) => service,
            Err(never) => match never {},
        };
        tokio::spawn(connection(Connection {
            stream,
            peer,
            service,
            builder: Arc::clone(&builder),
            keep_alive_timeout: limits.keep_alive_timeout,
            stop: stop_rx.clone(),
            _slot: slot,
            _running: running_tx.clone(),
        }));
    }
    // No new connections from here; the kernel refuses them once the listener is closed.
    drop(listener);
    stop_tx.send_replace(true);
    drop(running_tx);
    let _ = running_rx.recv().await;
}

/// Errors that concern one connection only (it went away before we took it): no backoff.
fn is_connection_error(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset, Interrupted};
    matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted
    )
}

/// One admitted connection and what serving it needs.
struct Connection<S> {
    stream: TcpStream,
    peer: SocketAddr,
    service: S,
    builder: Arc<auto::Builder<TokioExecutor>>,
    keep_alive_timeout: Option<Duration>,
    stop: watch::Receiver<bool>,
    /// Frees the connection's place under the caps when the task ends.
    _slot: Slot,
    /// Keeps the server's drain waiting until the task ends.
    _running: mpsc::Sender<Infallible>,
}

async fn connection<S>(mut conn: Connection<S>)
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    // Responses are written whole; Nagle would only delay a streamed event or a second segment.
    let _ = conn.stream.set_nodelay(true);
    let activity = Arc::new(Activity::new());
    let service = conn.service;
    let hyper_service = hyper::service::service_fn({
        let activity = Arc::clone(&activity);
        move |request: hyper::Request<Incoming>| {
            let busy = activity.begin();
            let call = service.clone().oneshot(request.map(Body::new));
            async move {
                let response = call.await;
                drop(busy);
                response
            }
        }
    });
    let http = conn
        .builder
        .serve_connection(TokioIo::new(conn.stream), hyper_service);
    let mut http = pin!(http);
    let mut closing = false;
    loop {
        let idle_deadline = conn
            .keep_alive_timeout
            .map(|timeout| activity.idle_deadline(timeout));
        tokio::select! {
            result = http.as_mut() => {
                if let Err(error) = result {
                    // Header timeouts, resets and malformed requests: routine, and a flood of
                    // them must not flood the log.
                    tracing::debug!(peer = %conn.peer, %error, "connection ended with an error");
                }
                break;
            }
            _ = conn.stop.wait_for(|stop| *stop), if !closing => {
                http.as_mut().graceful_shutdown();
                closing = true;
            }
            () = sleep_until(idle_deadline), if !closing && idle_deadline.is_some() => {
                // Requests may have come and gone while this slept: judge by the latest.
                let idle_now = conn
                    .keep_alive_timeout
                    .is_some_and(|timeout| activity.idle_deadline(timeout) <= Instant::now());
                if idle_now {
                    // Idle: hyper closes it at once; a request that raced in still gets its answer.
                    http.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// What a connection is doing, for the keep-alive timeout: requests in flight, and when the
/// last one ended.
struct Activity {
    opened: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds after `opened` at which the last request ended.
    last_ended_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            opened: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_ended_ms: AtomicU64::new(0),
        }
    }

    fn begin(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        Busy(Arc::clone(self))
    }

    fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }

    /// When the connection will have been idle for `timeout`, as far as is known now; while a
    /// request is in flight, one `timeout` from now (to look again then).
    fn idle_deadline(&self, timeout: Duration) -> Instant {
        if !self.is_idle() {
            return Instant::now() + timeout;
        }
        let last_ended = Duration::from_millis(self.last_ended_ms.load(Ordering::Acquire));
        self.opened + last_ended + timeout
    }
}

/// A request in flight on a connection.
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        let elapsed = u64::try_from(self.0.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        // The end time first, so whoever sees no request in flight also sees when it ended.
        self.0.last_ended_ms.store(elapsed, Ordering::Release);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Lets a repeated warning through at most once per [`WARN_EVERY`].
#[derive(Default)]
struct Throttle {
    last: Option<Instant>,
    suppressed: u64,
}

impl Throttle {
    /// `Some(how many were held back since the last one)` if this one may be logged.
    fn ready(&mut self) -> Option<u64> {
        let now = Instant::now();
        if self.last.is_some_and(|last| now - last < WARN_EVERY) {
            self.suppressed += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.suppressed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_throttled() {
        let mut throttle = Throttle::default();
        assert_eq!(throttle.ready(), Some(0));
        assert_eq!(throttle.ready(), None);
        assert_eq!(throttle.ready(), None);
    }
}
