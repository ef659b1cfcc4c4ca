//! Shared state, split into the few sub-states handlers actually ask for.

use std::sync::Arc;

use axum::extract::FromRef;
use hallpass_core::{
    clock::Clock, csrf::CsrfKey, device::DeviceKey, email::EmailCodeKey, factor::totp::TotpSealKey,
    refresh_binding::RefreshBindingKey, secret::SecretKey,
};
use hallpass_store::Stores;

use crate::{
    config::{EmailSettings, ServerConfig},
    infra::{
        mail::{MailTemplates, outbox::Outbox},
        passwords::Passwords,
        rate_limit::RateLimits,
        render::Pages,
    },
    telemetry::Metrics,
    tokens::Tokens,
};

/// Everything a request may need. Built once per server; no globals, so tests run many servers
/// in one process.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// Users, sessions, audit log.
    pub stores: Stores,
    /// Keys derived from the server secret.
    pub keys: Keys,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
    /// Settings as the server runs with them.
    pub config: Arc<ServerConfig>,
    /// The password hashing pool.
    pub passwords: Passwords,
    /// Abuse limits.
    pub limits: RateLimits,
    /// Counters and histograms.
    pub metrics: Metrics,
    /// Page templates.
    pub pages: Pages,
    /// Signing keys, token issuing and verification, the revoked set.
    pub tokens: Tokens,
    /// This node's session cache and how it keeps up with the others.
    pub node: Node,
    /// Tells long-lived responses (session event streams) that the server is stopping.
    pub shutdown: Shutdown,
    /// Caps on open session event streams, and their expiry deadlines.
    pub event_streams: crate::event_streams::EventStreams,
    /// Social login: the configured providers and how to reach them.
    pub social: Social,
    /// Outgoing mail: the templates, the outbox worker's parts, the `[email]` settings.
    pub mail: Mail,
}

/// What the emailed flows need.
#[derive(Clone)]
pub struct Mail {
    /// The mail templates.
    pub templates: MailTemplates,
    /// The outbox worker's parts; queueing a mail rings `outbox.wake`.
    pub outbox: Outbox,
    /// The `[email]` settings.
    pub settings: Arc<EmailSettings>,
}

impl Mail {
    /// Tells this node's outbox worker that a mail was queued, so it leaves at once.
    pub fn wake(&self) {
        self.outbox.wake.notify_one();
    }
}

/// What social login needs: the providers, an HTTP client for their back channel, and the key
/// that seals logins in progress.
#[derive(Clone, Debug)]
pub struct Social {
    /// The configured providers.
    pub providers: crate::infra::social::provider::Providers,
    /// Calls to providers (discovery, keys, token endpoint).
    pub http: crate::infra::social::http::ProviderHttp,
    /// Seals the login in progress into its cookie.
    pub pending: crate::infra::social::pending::PendingKey,
}

/// A server-wide "stopping" flag. Graceful shutdown waits for open connections, so every
/// response that would stay open (server-sent events) ends when this fires.
///
/// Before it fires, a server told to stop first *drains*: it keeps serving for `shutdown_delay`
/// while `/readyz` answers 503, so a load balancer takes it out of rotation before it stops
/// accepting connections.
#[derive(Clone, Debug)]
pub struct Shutdown {
    stopping: Arc<tokio::sync::watch::Sender<bool>>,
    draining: Arc<std::sync::atomic::AtomicBool>,
}

impl Shutdown {
    /// Not stopping yet.
    pub fn new() -> Self {
        Self {
            stopping: Arc::new(tokio::sync::watch::channel(false).0),
            draining: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        }
    }

    /// Marks the server as about to stop: readiness fails from now on, serving goes on.
    pub fn drain(&self) {
        self.draining
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether the server is about to stop (or stopping).
    pub fn is_draining(&self) -> bool {
        self.draining.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Marks the server as stopping (and draining, if it was not yet).
    pub fn trigger(&self) {
        self.drain();
        self.stopping.send_replace(true);
    }

    /// Resolves once the server is stopping (at once if it already is).
    pub fn wait(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut stopping = self.stopping.subscribe();
        async move {
            // An error means the sender is gone, which only happens when the server is.
            let _ = stopping.wait_for(|stopping| *stopping).await;
        }
    }
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

/// This node's view of sessions: the cache (which publishes and receives revocations) and how
/// often it reconciles with the store.
#[derive(Clone)]
pub struct Node {
    /// The session cache wrapping the stores.
    pub cache: Arc<hallpass_store::SessionCache>,
    /// The reconcile interval.
    pub reconcile_every: std::time::Duration,
    /// Recent store failures, for readiness.
    pub store_health: Arc<crate::infra::store_health::StoreHealth>,
}

/// Keys derived from the server secret, one per purpose.
#[derive(Clone, Debug)]
pub struct Keys {
    /// Makes and checks CSRF tokens.
    pub csrf: CsrfKey,
    /// Signs and checks device cookies.
    pub device: DeviceKey,
    /// Binds browsers' refresh cookies to a companion cookie no sibling site can set.
    pub refresh_binding: RefreshBindingKey,
    /// Hashes emailed codes.
    pub email_code: EmailCodeKey,
    /// Seals TOTP secrets at rest.
    pub totp_seal: TotpSealKey,
}

impl Keys {
    /// Derives every key from the shared secret.
    pub fn derive(secret: &SecretKey) -> Self {
        Self {
            csrf: CsrfKey::new(secret.derive("hallpass/csrf/v1")),
            device: DeviceKey::new(secret.derive("hallpass/device/v1")),
            refresh_binding: RefreshBindingKey::new(secret.derive("hallpass/refresh-binding/v1")),
            email_code: EmailCodeKey::new(secret.derive("hallpass/email-code/v1")),
            totp_seal: TotpSealKey::new(secret.derive("hallpass/totp-seal/v1")),
        }
    }
}
