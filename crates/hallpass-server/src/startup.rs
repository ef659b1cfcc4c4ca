//! Building and running a server: the seam between `main` and the tests.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use hallpass_core::{clock::Clock, password::PasswordHasher};
use hallpass_store::{SessionCache, Stores};
use tokio::net::TcpListener;

use crate::{
    config::Settings,
    http,
    pages::Pages,
    passwords::Passwords,
    rate_limit::RateLimits,
    secret_key,
    state::{AppState, Keys, ServerConfig},
    telemetry::Metrics,
};

/// How often ended sessions are purged and idle rate-limit state dropped.
const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(600);
/// Ended sessions stay this long (for the audit trail of "who was logged in") before purging.
const KEEP_ENDED_SESSIONS: time::Duration = time::Duration::days(1);

/// The state a server runs with, built from settings: opens (and migrates) the store, loads
/// or creates the secret key, starts the hashing pool.
pub async fn build_state(settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    let stores = Stores::open(&settings.database_url)
        .await
        .with_context(|| {
            format!(
                "opening the database {}",
                redact_url(&settings.database_url)
            )
        })?;
    let stores = if settings.session_cache_ttl.std().is_zero() {
        stores
    } else {
        SessionCache::wrap(
            stores,
            Arc::clone(&clock),
            settings.session_cache_ttl.time(),
            settings.session_cache_capacity,
        )
    };
    let secret = secret_key::load_or_generate(&settings.secret_key_path())?;
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
        limits: RateLimits::new(&settings.rate_limit, Arc::clone(&clock)),
        clock,
        config: Arc::new(ServerConfig::from_settings(settings)),
        passwords,
        metrics: Metrics::new(),
        pages: Pages::load().context("loading page templates")?,
    })
}

/// A bound, ready-to-run server.
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Builds the state and binds the listen address (port 0 picks a free port).
    pub async fn build(settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let state = build_state(settings, clock).await?;
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("listening on {}", settings.listen))?;
        Ok(Self { listener, state })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The server's state (tests reach the store and clock through it).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, finishing requests in flight.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let app = http::app(self.state.clone());
        let server = axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown);
        tokio::select! {
            result = server => result,
            () = maintenance(self.state) => Ok(()),
        }
    }
}

async fn maintenance(state: AppState) {
    let mut ticks = tokio::time::interval(MAINTENANCE_INTERVAL);
    loop {
        ticks.tick().await;
        let now = state.clock.now();
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
