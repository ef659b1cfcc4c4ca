//! Building and running a server: the seam between `main` and the tests.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use hallpass_core::token::{RefreshKey, SigningAlg};
use hallpass_core::{clock::Clock, password::PasswordHasher};
use hallpass_store::{
    CachePolicy, RevokedSessions, SessionCache, Stores,
    bus::{InProcessBus, PostgresBus, RedisBus, RevocationBus},
};
use tokio::net::TcpListener;

use crate::{
    config::Settings,
    event_streams::EventStreams,
    http::{self, serve::ConnectionLimits},
    pages::Pages,
    passwords::Passwords,
    rate_limit::RateLimits,
    secret_key,
    social::{http::ProviderHttp, pending::PendingKey, provider::Providers},
    state::{AppState, Keys, Node, ServerConfig, Shutdown, Social},
    telemetry::Metrics,
    tokens::{
        Tokens,
        keyring::{KeyPolicy, KeyRing},
        verified::VerifiedTokens,
    },
};

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

/// The state a server runs with, built from settings: opens (and migrates) the store, loads
/// or creates the secret key, starts the hashing pool.
pub async fn build_state(settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    let stores = Stores::open(&settings.database_url, &settings.store_options())
        .await
        .with_context(|| {
            format!(
                "opening the database {}",
                redact_url(&settings.database_url)
            )
        })?;
    let secret = secret_key::load_or_generate(&settings.secret_key_path())?;
    let now = clock.now();
    let config = ServerConfig::from_settings(settings);
    let config_public_url = config.public_url.clone();
    let skew = settings.clock_skew.time();
    let access_ttl = settings.access_token_ttl.time();
    // Every revocation passes through the cache wrapper, which records it in the revoked set.
    let revoked = Arc::new(RevokedSessions::new(access_ttl + skew));
    let (stores, node_cache) = SessionCache::wrap(
        stores,
        Arc::clone(&revoked),
        revocation_bus(settings).await?,
        Arc::clone(&clock),
        CachePolicy {
            max_age: settings.session_cache_ttl.time(),
            capacity: settings.session_cache_capacity,
            outage_grace: settings.store_outage_grace.time(),
        },
    );
    // A restart forgets no revocation.
    node_cache
        .reconcile()
        .await
        .context("loading revoked sessions")?;
    let policy = key_policy(settings)?;
    let keyring = KeyRing::start(
        stores.clone(),
        secret.derive("hallpass/signing-keys/v1"),
        policy.clone(),
        now,
    )
    .await?;
    let tokens = Tokens {
        keyring: Arc::new(keyring),
        refresh_key: RefreshKey::new(secret.derive("hallpass/refresh-tokens/v1")),
        revoked,
        verified: Arc::new(VerifiedTokens::new(settings.verified_token_cache_capacity)),
        access_ttl,
        refresh_ttl: settings.refresh_token_ttl.time(),
        refresh_grace: settings.refresh_grace.time(),
        issuer: policy.issuer,
        audience: policy.audience,
    };
    let argon2 = settings.argon2;
    let hasher = PasswordHasher::new(argon2.m_cost, argon2.t_cost, argon2.p_cost)
        .context("argon2 settings")?;
    let threads = settings
        .password_hash_threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
    let passwords = Passwords::start(hasher, threads, settings.password_hash_queue)
        .context("starting hashing threads")?;
    Ok(AppState {
        stores,
        keys: Keys::derive(&secret),
        limits: rate_limits(settings, Arc::clone(&clock))?,
        clock,
        config: Arc::new(config),
        passwords,
        metrics: Metrics::new(),
        pages: Pages::load().context("loading page templates")?,
        tokens,
        node: Node {
            cache: node_cache,
            reconcile_every: settings.reconcile_interval.std(),
            store_health: Arc::default(),
        },
        shutdown: Shutdown::new(),
        event_streams: EventStreams::from_settings(settings),
        social: Social {
            providers: Providers::from_settings(&settings.providers, &config_public_url)
                .context("social login providers")?,
            http: ProviderHttp::new().context("the HTTP client for social login providers")?,
            pending: PendingKey::new(secret.derive("hallpass/pending-login/v1")),
        },
    })
}

/// The carrier of revocations between nodes: Redis when configured, else PostgreSQL
/// LISTEN/NOTIFY on a PostgreSQL store, else none (one node).
async fn revocation_bus(settings: &Settings) -> anyhow::Result<Arc<dyn RevocationBus>> {
    let channel = settings.bus_channel.clone();
    if let Some(url) = &settings.redis_url {
        return Ok(Arc::new(RedisBus::new(url, channel).context("redis_url")?));
    }
    if settings.database_url.starts_with("postgres") {
        let bus = PostgresBus::connect(&settings.database_url, channel)
            .await
            .context("connecting the revocation bus")?;
        return Ok(Arc::new(bus));
    }
    Ok(Arc::new(InProcessBus))
}

/// Per-node limits, shared through Redis when it is configured.
fn rate_limits(settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<RateLimits> {
    let limits = RateLimits::new(&settings.rate_limit, clock);
    match &settings.redis_url {
        Some(url) => limits.shared_through(url, settings.redis_key_prefix.clone()),
        None => Ok(limits),
    }
}

/// The key ring's settings: algorithm, rotation, issuer and audience.
pub fn key_policy(settings: &Settings) -> anyhow::Result<KeyPolicy> {
    let config = ServerConfig::from_settings(settings);
    let skew = settings.clock_skew.time();
    Ok(KeyPolicy {
        alg: SigningAlg::parse(&settings.signing_alg).with_context(|| {
            format!(
                "signing_alg {:?}: signing_alg is one of EdDSA, ES256, RS256, HS256",
                settings.signing_alg
            )
        })?,
        rotation: settings.key_rotation_interval.time(),
        token_horizon: settings.access_token_ttl.time() + skew,
        issuer: config.public_url.clone(),
        audience: settings.audience.clone().unwrap_or(config.public_url),
        skew_seconds: skew.whole_seconds(),
    })
}

/// A bound, ready-to-run server.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    limits: ConnectionLimits,
    shutdown_delay: Duration,
}

impl Application {
    /// Builds the state and binds the listen address (port 0 picks a free port).
    pub async fn build(settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        // First: raising the open-file limit must come before the database opens its pool.
        let limits = ConnectionLimits::from_settings(settings);
        let state = build_state(settings, clock).await?;
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("listening on {}", settings.listen))?;
        Ok(Self {
            listener,
            state,
            limits,
            shutdown_delay: settings.shutdown_delay.std(),
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The server's state (tests reach the store and clock through it).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then for `shutdown_delay` more with `/readyz` failing,
    /// then stops accepting and finishes the requests in flight.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let app = http::app(self.state.clone());
        let stopping = self.state.shutdown.clone();
        let delay = self.shutdown_delay;
        let stop = async move {
            shutdown.await;
            stopping.drain();
            if !delay.is_zero() {
                tracing::info!(
                    delay = %humantime::format_duration(delay),
                    "draining: /readyz answers 503; still serving until the delay is over"
                );
                tokio::time::sleep(delay).await;
            }
            // Open event streams would otherwise hold the graceful shutdown forever.
            stopping.trigger();
        };
        let server = http::serve::serve(
            self.listener,
            app,
            self.limits,
            self.state.metrics.clone(),
            stop,
        );
        self.state.node.cache.listen();
        check_clock(&self.state).await;
        let node = self.state.node.clone();
        let result = tokio::select! {
            () = server => Ok(()),
            () = maintenance(self.state.clone()) => Ok(()),
            () = reconcile(self.state.clone()) => Ok(()),
            () = expire_streams(self.state.clone()) => Ok(()),
            () = flush_touches(self.state) => Ok(()),
        };
        // Activity noted since the last flush is written before the node goes away.
        if let Err(error) = node.cache.flush_touches().await {
            tracing::warn!(error = ?error, "writing session activity at shutdown failed");
        }
        result
    }
}

/// Wakes the event streams whose deadline the clock has passed; the others are not touched.
async fn expire_streams(state: AppState) {
    let mut ticks = tokio::time::interval(EXPIRY_TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        state.event_streams.deadlines.fire_due(state.clock.now());
    }
}

async fn maintenance(state: AppState) {
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
async fn reconcile(state: AppState) {
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
async fn check_clock(state: &AppState) {
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
async fn flush_touches(state: AppState) {
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
    state.limits.forget_idle();
}

/// A database URL fit for logs: any password replaced.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("redacted"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
