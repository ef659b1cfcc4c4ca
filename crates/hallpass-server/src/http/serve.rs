//! Our own accept loop in place of `axum::serve`, which has no header-read timeout, no idle
//! timeout and no connection cap: idle and slowloris sockets were never closed, and enough of
//! them ran the process out of file descriptors (issue 11).
//!
//! Each accepted socket is admitted against a total cap and a per-address cap, or closed at
//! once. An admitted one is served by hyper's HTTP/1 with a header-read timeout, and closed
//! gracefully once no request has been in flight on it for the keep-alive timeout.

use std::{
    collections::HashMap,
    convert::Infallible,
    net::{IpAddr, SocketAddr},
    pin::pin,
    sync::{
        Arc, Mutex, PoisonError,
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

use crate::{
    config::{ConfigDuration, Settings},
    telemetry::Metrics,
};

/// Descriptors kept back from connections when the cap is derived from the open-file limit: the
/// database pool (16 PostgreSQL connections, or SQLite's 8 plus its WAL and shm files), the
/// revocation bus and Redis, the listener, the runtime's epoll and wake descriptors, the key file,
/// logs, and HTTPS calls to social login providers, with room to spare: running out fails
/// requests already admitted, which is worse than refusing a connection.
const RESERVED_FDS: u64 = 128;
/// The largest derived cap. An idle HTTP/1 connection holds hyper's buffers (8 KiB and up), so a
/// huge limit (`ulimit -n 1048576`) must not turn into a memory budget; set `max_connections`
/// to go higher.
const MAX_DERIVED_CONNECTIONS: u64 = 16_384;
/// The smallest derived cap, for tiny limits (accept errors are then handled by backing off).
const MIN_DERIVED_CONNECTIONS: u64 = 32;
/// How long the accept loop waits after an error such as EMFILE: long enough not to spin, short
/// enough to resume as soon as descriptors are free again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// Repeated warnings (accept errors, caps reached) are logged at most this often.
const WARN_EVERY: Duration = Duration::from_secs(1);

/// How connections are limited; built once at start.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// A request's headers must arrive within this; none: no limit.
    pub header_read_timeout: Option<Duration>,
    /// A connection with no request in flight for this long is closed; none: never.
    pub keep_alive_timeout: Option<Duration>,
    /// Open connections at most.
    pub max_connections: usize,
    /// Open connections per client address at most; none: no per-address cap.
    pub max_connections_per_ip: Option<usize>,
    /// Addresses exempt from the per-address cap: a trusted proxy carries many clients.
    pub exempt: Vec<IpAddr>,
}

impl ConnectionLimits {
    /// The limits the settings ask for. Raises the open-file soft limit to the hard limit first
    /// (logging both), because the default total cap is derived from it.
    pub fn from_settings(settings: &Settings) -> Self {
        let open_files = raise_open_file_limit();
        let derived = open_files.map_or(MAX_DERIVED_CONNECTIONS, |limit| {
            limit
                .saturating_sub(RESERVED_FDS)
                .clamp(MIN_DERIVED_CONNECTIONS, MAX_DERIVED_CONNECTIONS)
        });
        let derived = usize::try_from(derived).unwrap_or(usize::MAX);
        let max_connections = settings.max_connections.unwrap_or(derived);
        if let Some(limit) = open_files
            && max_connections as u64 > limit.saturating_sub(RESERVED_FDS)
        {
            tracing::warn!(
                max_connections,
                open_file_limit = limit,
                "max_connections leaves fewer than {RESERVED_FDS} descriptors for the database and files"
            );
        }
        // One address may never take every slot, whatever the setting says.
        let max_connections_per_ip = (settings.max_connections_per_ip > 0).then(|| {
            settings
                .max_connections_per_ip
                .min((max_connections / 2).max(1))
        });
        let limits = Self {
            header_read_timeout: nonzero(settings.header_read_timeout),
            keep_alive_timeout: nonzero(settings.keep_alive_timeout),
            max_connections,
            max_connections_per_ip,
            exempt: settings
                .trusted_proxies
                .iter()
                .filter_map(|proxy| proxy.parse::<IpAddr>().ok())
                .map(|ip| ip.to_canonical())
                .collect(),
        };
        tracing::info!(
            max_connections,
            max_connections_per_ip = ?limits.max_connections_per_ip,
            header_read_timeout = ?limits.header_read_timeout,
            keep_alive_timeout = ?limits.keep_alive_timeout,
            "connection limits"
        );
        limits
    }
}

fn nonzero(duration: ConfigDuration) -> Option<Duration> {
    Some(duration.std()).filter(|d| !d.is_zero())
}

/// Raises the soft RLIMIT_NOFILE to the hard one (a service manager often leaves the soft one
/// at 1024 for old `select()` users; we use epoll) and returns the soft limit now in force.
#[cfg(unix)]
fn raise_open_file_limit() -> Option<u64> {
    let (soft, hard) = match rlimit::Resource::NOFILE.get() {
        Ok(limits) => limits,
        Err(error) => {
            tracing::warn!(%error, "could not read the open-file limit");
            return None;
        }
    };
    let now = rlimit::increase_nofile_limit(hard).unwrap_or_else(|error| {
        tracing::warn!(%error, soft, hard, "could not raise the open-file limit");
        soft
    });
    tracing::info!(soft = now, hard, was = soft, "open-file limit");
    Some(now)
}

#[cfg(not(unix))]
fn raise_open_file_limit() -> Option<u64> {
    None
}

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting, asks every
/// connection to finish (idle ones close at once, busy ones after their response) and waits.
pub async fn serve(
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

/// The caps: how many connections are open, in all and per client address.
struct Admission {
    max_connections: usize,
    max_connections_per_ip: Option<usize>,
    exempt: Vec<IpAddr>,
    counts: Mutex<Counts>,
    metrics: Metrics,
}

#[derive(Default)]
struct Counts {
    total: usize,
    by_ip: HashMap<IpAddr, usize>,
}

impl Admission {
    fn new(limits: &ConnectionLimits, metrics: Metrics) -> Self {
        Self {
            max_connections: limits.max_connections,
            max_connections_per_ip: limits.max_connections_per_ip,
            exempt: limits.exempt.clone(),
            counts: Mutex::default(),
            metrics,
        }
    }

    /// A place for a connection from `ip`, or the name of the cap that is full.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, &'static str> {
        // An IPv4 client on a dual-stack socket arrives as ::ffff:a.b.c.d; count it as a.b.c.d.
        let ip = ip.to_canonical();
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if counts.total >= self.max_connections {
            return Err("max_connections");
        }
        let from_ip = counts.by_ip.get(&ip).copied().unwrap_or(0);
        if let Some(cap) = self.max_connections_per_ip
            && from_ip >= cap
            && !self.exempt.contains(&ip)
        {
            return Err("max_connections_per_ip");
        }
        counts.total += 1;
        counts.by_ip.insert(ip, from_ip + 1);
        self.metrics.connection_opened();
        Ok(Slot {
            admission: Arc::clone(self),
            ip,
        })
    }
}

/// A connection's place under the caps, given back when dropped.
struct Slot {
    admission: Arc<Admission>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self
            .admission
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        counts.total = counts.total.saturating_sub(1);
        if let Some(from_ip) = counts.by_ip.get_mut(&self.ip) {
            *from_ip = from_ip.saturating_sub(1);
            if *from_ip == 0 {
                counts.by_ip.remove(&self.ip);
            }
        }
        self.admission.metrics.connection_closed();
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

    fn admission(total: usize, per_ip: Option<usize>, exempt: &[&str]) -> Arc<Admission> {
        let limits = ConnectionLimits {
            header_read_timeout: None,
            keep_alive_timeout: None,
            max_connections: total,
            max_connections_per_ip: per_ip,
            exempt: exempt.iter().map(|ip| ip.parse().unwrap()).collect(),
        };
        Arc::new(Admission::new(&limits, Metrics::new()))
    }

    #[test]
    fn caps_count_per_address_and_in_all_and_free_their_place() {
        let caps = admission(3, Some(2), &["10.0.0.9"]);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        let first = caps.admit(a).unwrap();
        let _second = caps.admit(mapped).unwrap();
        assert_eq!(caps.admit(a).err(), Some("max_connections_per_ip"));
        let _third = caps.admit("10.0.0.2".parse().unwrap()).unwrap();
        assert_eq!(
            caps.admit("10.0.0.3".parse().unwrap()).err(),
            Some("max_connections")
        );
        drop(first);
        assert!(caps.admit(a).is_ok());
    }

    #[test]
    fn trusted_proxies_pass_the_per_address_cap() {
        let caps = admission(10, Some(1), &["10.0.0.9"]);
        let proxy: IpAddr = "10.0.0.9".parse().unwrap();
        let slots: Vec<_> = (0..5).map(|_| caps.admit(proxy).unwrap()).collect();
        assert_eq!(slots.len(), 5);
    }

    #[test]
    fn warnings_are_throttled() {
        let mut throttle = Throttle::default();
        assert_eq!(throttle.ready(), Some(0));
        assert_eq!(throttle.ready(), None);
        assert_eq!(throttle.ready(), None);
    }
}
