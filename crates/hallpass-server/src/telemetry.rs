//! Logs and metrics. Metrics live in a registry owned by each server (no global recorder), so
//! tests can run many servers in one process and read each one's numbers.

use std::{sync::Arc, time::Instant};

use axum::{
    extract::{MatchedPath, Request, State},
    http::Method,
    middleware::Next,
    response::Response,
};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};
use tracing_subscriber::{EnvFilter, fmt, layer::SubscriberExt, util::SubscriberInitExt};

use crate::config::LogFormat;

/// Installs the process's log subscriber (the binary calls this once; tests only with `TEST_LOG`).
pub fn init_logging(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Json => registry
            .with(fmt::layer().json().with_writer(std::io::stderr))
            .try_init(),
        LogFormat::Text => registry
            .with(fmt::layer().with_writer(std::io::stderr))
            .try_init(),
    };
    // A second call (several servers in one test process) keeps the first subscriber.
    drop(result);
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: &'static str,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LoginLabels {
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusedLabels {
    reason: &'static str,
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// The server's metrics.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
    logins: Family<LoginLabels, Counter>,
    active_sessions: Gauge,
    verified_tokens: Gauge,
    verified_hits: Gauge,
    verified_misses: Gauge,
    revoked_sessions: Gauge,
    store_calls: Gauge,
    clock_offset: Gauge<f64, std::sync::atomic::AtomicU64>,
    open_connections: Gauge,
    refused_connections: Family<RefusedLabels, Counter>,
    mail_deliveries: Family<MailLabels, Counter>,
    outbox: Family<MailLabels, Gauge>,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MailLabels {
    state: &'static str,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("hallpass");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            requests.clone(),
        );
        let latency: LatencyFamily =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.000_05, 2.0, 18)));
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        let logins = Family::<LoginLabels, Counter>::default();
        registry.register(
            "logins",
            "Login attempts by result (ok, failed)",
            logins.clone(),
        );
        let active_sessions = Gauge::default();
        registry.register(
            "active_sessions",
            "Live sessions across all users",
            active_sessions.clone(),
        );
        let verified_tokens = Gauge::default();
        registry.register(
            "verified_token_cache_entries",
            "Access tokens held verified",
            verified_tokens.clone(),
        );
        let verified_hits = Gauge::default();
        registry.register(
            "verified_token_cache_hits",
            "Presentations that skipped the signature check",
            verified_hits.clone(),
        );
        let verified_misses = Gauge::default();
        registry.register(
            "verified_token_cache_misses",
            "Presentations that needed the signature check",
            verified_misses.clone(),
        );
        let revoked_sessions = Gauge::default();
        registry.register(
            "revoked_sessions",
            "Sessions in this node's revoked set",
            revoked_sessions.clone(),
        );
        let store_calls = Gauge::default();
        registry.register(
            "store_calls",
            "Round trips to the store for requests' sessions and users (steady state: none)",
            store_calls.clone(),
        );
        let clock_offset = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "clock_offset_seconds",
            "This node's clock minus the database's, measured at start and on every reconcile",
            clock_offset.clone(),
        );
        let open_connections = Gauge::default();
        registry.register(
            "open_connections",
            "Client connections open now",
            open_connections.clone(),
        );
        let refused_connections = Family::<RefusedLabels, Counter>::default();
        registry.register(
            "refused_connections",
            "Connections closed on accept by a cap (reason: max_connections, max_connections_per_ip)",
            refused_connections.clone(),
        );
        let mail_deliveries = Family::<MailLabels, Counter>::default();
        registry.register(
            "mail_deliveries",
            "Delivery attempts of queued mail by this node, by outcome (sent, retry, failed)",
            mail_deliveries.clone(),
        );
        let outbox = Family::<MailLabels, Gauge>::default();
        registry.register(
            "outbox_mails",
            "Mails in the outbox by state (pending, sent, failed), read from the store at scrape time",
            outbox.clone(),
        );
        Self {
            mail_deliveries,
            outbox,
            clock_offset,
            open_connections,
            refused_connections,
            store_calls,
            verified_tokens,
            verified_hits,
            verified_misses,
            revoked_sessions,
            registry: Arc::new(registry),
            requests,
            latency,
            logins,
            active_sessions,
        }
    }

    /// Counts a login attempt.
    pub fn login(&self, ok: bool) {
        let result = if ok { "ok" } else { "failed" };
        self.logins.get_or_create(&LoginLabels { result }).inc();
    }

    /// Sets the live-session gauge (read from the store at scrape time).
    pub fn set_active_sessions(&self, count: u64) {
        self.active_sessions
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// Sets the token gauges (read from the caches at scrape time).
    pub fn set_token_caches(&self, (entries, hits, misses): (usize, u64, u64), revoked: usize) {
        let gauge = |g: &Gauge, v: u64| g.set(i64::try_from(v).unwrap_or(i64::MAX));
        gauge(&self.verified_tokens, entries as u64);
        gauge(&self.verified_hits, hits);
        gauge(&self.verified_misses, misses);
        gauge(&self.revoked_sessions, revoked as u64);
    }

    /// Counts a delivery attempt's outcome: `sent`, `retry` or `failed`.
    pub fn mail_delivery(&self, state: &'static str) {
        self.mail_deliveries
            .get_or_create(&MailLabels { state })
            .inc();
    }

    /// Sets the outbox gauges (read from the store at scrape time).
    pub fn set_outbox(&self, counts: hallpass_store::OutboxCounts) {
        for (state, n) in [
            ("pending", counts.pending),
            ("sent", counts.sent),
            ("failed", counts.failed),
        ] {
            self.outbox
                .get_or_create(&MailLabels { state })
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }

    /// Sets the store round-trip count.
    pub fn set_store_calls(&self, calls: u64) {
        self.store_calls
            .set(i64::try_from(calls).unwrap_or(i64::MAX));
    }

    /// Sets the measured clock offset from the database.
    pub fn set_clock_offset(&self, seconds: f64) {
        self.clock_offset.set(seconds);
    }

    /// Counts a connection admitted.
    pub fn connection_opened(&self) {
        self.open_connections.inc();
    }

    /// Counts an admitted connection gone.
    pub fn connection_closed(&self) {
        self.open_connections.dec();
    }

    /// Counts a connection closed on accept because `cap` (the setting's name) was reached.
    pub fn connection_refused(&self, cap: &'static str) {
        self.refused_connections
            .get_or_create(&RefusedLabels { reason: cap })
            .inc();
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// The `method` label: the methods HTTP defines, every other token as `other`. A client may send any
/// token as a method; labelling by it would let anyone grow the registry without bound.
fn method_label(method: &Method) -> &'static str {
    static KNOWN: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    KNOWN
        .iter()
        .find(|known| *known == method)
        .map_or("other", Method::as_str)
}

/// The `route` label: the matched route's template, `unmatched` for anything else (never the raw
/// path, which clients choose).
fn route_label(request: &Request) -> String {
    request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned())
}

/// Middleware: counts and times every request. Every label comes from a fixed set (route
/// templates, `method_label`, the statuses hallpass answers), so clients cannot create series.
pub async fn track_requests(
    State(metrics): State<Metrics>,
    request: Request,
    next: Next,
) -> Response {
    let route = route_label(&request);
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    metrics
        .latency
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&RequestLabels {
            route,
            method,
            status: response.status().as_u16(),
        })
        .inc();
    response
}
