//! The state a server runs with, built from settings.

use std::sync::Arc;

use anyhow::Context;
use hallpass_core::token::{RefreshKey, SigningAlg};
use hallpass_core::{clock::Clock, password::PasswordHasher};
use hallpass_store::{
    CachePolicy, RevokedSessions, SessionCache, Stores,
    bus::{InProcessBus, PostgresBus, RedisBus, RevocationBus},
};

use super::redact_url;
use crate::{
    config::{ServerConfig, Settings},
    event_streams::EventStreams,
    infra::{
        mail::{
            MailTemplates, Mailer,
            outbox::{DeliveryPolicy, Outbox},
        },
        passwords::Passwords,
        rate_limit::RateLimits,
        render::Pages,
        secret_key,
        social::{http::ProviderHttp, pending::PendingKey, provider::Providers},
    },
    state::{AppState, Keys, Mail, Node, Shutdown, Social},
    telemetry::Metrics,
    tokens::{
        Tokens,
        keyring::{KeyPolicy, KeyRing},
        verified::VerifiedTokens,
    },
};

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
    let metrics = Metrics::new();
    let mail = mail(settings, &stores, &clock, &metrics, &config_public_url)?;
    Ok(AppState {
        mail,
        stores,
        keys: Keys::derive(&secret),
        limits: rate_limits(settings, Arc::clone(&clock))?,
        clock,
        config: Arc::new(config),
        passwords,
        metrics,
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

/// The mailer, its templates and the outbox worker's parts.
fn mail(
    settings: &Settings,
    stores: &Stores,
    clock: &Arc<dyn Clock>,
    metrics: &Metrics,
    public_url: &str,
) -> anyhow::Result<Mail> {
    let email = &settings.email;
    let mailer = Mailer::from_settings(email, settings.mail_dir(), public_url)?;
    Ok(Mail {
        templates: MailTemplates::load(public_url).context("loading mail templates")?,
        outbox: Outbox {
            store: Arc::clone(&stores.outbox),
            audit: Arc::clone(&stores.audit),
            mailer,
            clock: Arc::clone(clock),
            metrics: metrics.clone(),
            wake: Arc::default(),
            policy: DeliveryPolicy::new(
                email.max_delivery_attempts,
                email.smtp_timeout.std(),
                email.outbox_poll_interval.std(),
            ),
        },
        settings: Arc::new(email.clone()),
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
