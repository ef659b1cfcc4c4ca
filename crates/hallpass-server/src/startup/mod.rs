//! Building and running a server: the seam between `main` and the tests.

mod build;
mod redact;
mod tasks;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use hallpass_core::clock::Clock;
use tokio::net::TcpListener;

pub use build::{build_state, key_policy};
pub use redact::redact_url;
use tasks::{check_clock, expire_streams, flush_touches, maintenance, reconcile};

use crate::{
    config::Settings,
    http::{self, serve::ConnectionLimits},
    router,
    state::AppState,
};

/// A bound, ready-to-run server.
pub struct Application {
    listener: TcpListener,
    /// `metrics_listen`: metrics and health without credentials, for the operator's network.
    ops_listener: Option<TcpListener>,
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
        let ops_listener = match settings.metrics_listen {
            Some(address) => Some(
                TcpListener::bind(address)
                    .await
                    .with_context(|| format!("metrics_listen {address}"))?,
            ),
            None => None,
        };
        Ok(Self {
            listener,
            ops_listener,
            state,
            limits,
            shutdown_delay: settings.shutdown_delay.std(),
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The address `metrics_listen` actually bound, if set.
    pub fn ops_addr(&self) -> Option<SocketAddr> {
        self.ops_listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok())
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
        let app = router::app(self.state.clone());
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
        if self.ops_listener.is_none() && self.state.config.metrics_access.is_none() {
            tracing::info!(
                "/metrics is not served: set metrics_listen (a private address) or metrics_token"
            );
        }
        let ops = self.ops_listener.map(|listener| {
            tracing::info!(address = ?listener.local_addr().ok(), "serving /metrics, /healthz and /readyz for operators");
            http::serve::serve(
                listener,
                router::ops_app(self.state.clone()),
                self.limits.clone(),
                self.state.metrics.clone(),
                self.state.shutdown.wait(),
            )
        });
        let main = http::serve::serve(
            self.listener,
            app,
            self.limits,
            self.state.metrics.clone(),
            stop,
        );
        // Both listeners stop together: the operations one when the drain ends.
        let server = async move {
            match ops {
                Some(ops) => {
                    tokio::join!(main, ops);
                }
                None => main.await,
            }
        };
        self.state.node.cache.listen();
        check_clock(&self.state).await;
        let outbox = self.state.mail.outbox.clone();
        if outbox.mailer.delivers() {
            tracing::info!("mail is delivered by SMTP (email.smtp_url)");
        } else {
            tracing::warn!(
                folder = %outbox.mailer.describe(),
                "mail is NOT being delivered: no email.smtp_url is set, so every mail (verification, \
                 password reset) is written to the mail folder and its link logged"
            );
        }
        let node = self.state.node.clone();
        let result = tokio::select! {
            () = server => Ok(()),
            () = maintenance(self.state.clone()) => Ok(()),
            () = reconcile(self.state.clone()) => Ok(()),
            () = expire_streams(self.state.clone()) => Ok(()),
            () = flush_touches(self.state) => Ok(()),
            () = outbox.run() => Ok(()),
        };
        // Activity noted since the last flush is written before the node goes away.
        if let Err(error) = node.cache.flush_touches().await {
            tracing::warn!(error = ?error, "writing session activity at shutdown failed");
        }
        result
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
