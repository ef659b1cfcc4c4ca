//! The revocation bus (docs/design.md §7): after a node writes a revocation or a user change to the
//! store, it publishes it; every other node drops the sessions from its cache and adds them to
//! its revoked set. Three carriers behind one trait: in-process (a single node), PostgreSQL
//! LISTEN/NOTIFY, Redis pub/sub. A lost message is repaired by the periodic reconcile, so it
//! delays a revocation by at most that interval, never forever.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use async_trait::async_trait;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, postgres::PgListener};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::StoreError;

/// What a node tells the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusEvent {
    /// The node that published it (it has applied the event already).
    pub node: Uuid,
    /// Sessions revoked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sessions: Vec<Uuid>,
    /// Users whose cached copy is stale (roles, disabled, password, deleted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<Uuid>,
    /// Sessions whose refresh family rotated: a cached copy holds an old generation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refreshed: Vec<Uuid>,
    /// When the revocation happened, unix microseconds.
    pub at: i64,
}

/// Where received events and reconnections go.
pub trait BusHandler: Send + Sync {
    /// An event from another node.
    fn event(&self, event: BusEvent);
    /// The carrier reconnected: messages may have been lost, so re-read the store.
    fn reconnected(&self);
}

/// Carries events between nodes.
#[async_trait]
pub trait RevocationBus: Send + Sync {
    /// Publishes an event (after the store write it describes).
    async fn publish(&self, event: &BusEvent) -> Result<(), StoreError>;
    /// Starts delivering other nodes' events to `handler`, reconnecting by itself.
    fn listen(&self, handler: Arc<dyn BusHandler>);
    /// The carrier's name, for logs and metrics.
    fn name(&self) -> &'static str;
}

/// A single node: nothing to tell anyone.
#[derive(Debug, Default)]
pub struct InProcessBus;

#[async_trait]
impl RevocationBus for InProcessBus {
    async fn publish(&self, _event: &BusEvent) -> Result<(), StoreError> {
        Ok(())
    }

    fn listen(&self, _handler: Arc<dyn BusHandler>) {}

    fn name(&self) -> &'static str {
        "in-process"
    }
}

/// How long a carrier waits before reconnecting.
const RETRY: Duration = Duration::from_secs(1);

fn decode(payload: &str) -> Option<BusEvent> {
    serde_json::from_str(payload)
        .inspect_err(|e| tracing::warn!(error = %e, "ignoring a malformed bus message"))
        .ok()
}

/// PostgreSQL `NOTIFY` on a channel; each node `LISTEN`s on its own connection.
#[derive(Debug, Clone)]
pub struct PostgresBus {
    pool: PgPool,
    url: String,
    channel: String,
}

impl PostgresBus {
    /// A bus on the database at `url`: a small pool for publishing, and a listener connection
    /// of its own, on `channel`.
    pub async fn connect(url: &str, channel: String) -> Result<Self, StoreError> {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            // Publishing happens after the store write a request waits on: bounded like the store.
            .acquire_timeout(Duration::from_secs(2))
            .connect(url)
            .await?;
        Ok(Self {
            pool,
            url: url.to_owned(),
            channel,
        })
    }
}

#[async_trait]
impl RevocationBus for PostgresBus {
    async fn publish(&self, event: &BusEvent) -> Result<(), StoreError> {
        let payload =
            serde_json::to_string(event).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(&self.channel)
            .bind(payload)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    fn listen(&self, handler: Arc<dyn BusHandler>) {
        let (url, channel) = (self.url.clone(), self.channel.clone());
        tokio::spawn(async move {
            loop {
                match PgListener::connect(&url).await {
                    Ok(mut listener) => {
                        if let Err(error) = listener.listen(&channel).await {
                            tracing::warn!(error = %error, "LISTEN failed");
                        } else {
                            handler.reconnected();
                            // `try_recv` answers `None` when the connection drops (it reconnects
                            // on the next call): messages sent meanwhile are lost, so reconcile.
                            loop {
                                match listener.try_recv().await {
                                    Ok(Some(notification)) => {
                                        if let Some(event) = decode(notification.payload()) {
                                            handler.event(event);
                                        }
                                    }
                                    Ok(None) => {
                                        tracing::warn!(
                                            "revocation bus (PostgreSQL) lost its connection"
                                        );
                                        handler.reconnected();
                                    }
                                    Err(error) => {
                                        tracing::warn!(error = %error, "revocation bus (PostgreSQL) failed");
                                        break;
                                    }
                                }
                            }
                        }
                    }
                    Err(error) => {
                        tracing::warn!(error = %error, "revocation bus (PostgreSQL) cannot connect")
                    }
                }
                tokio::time::sleep(RETRY).await;
            }
        });
    }

    fn name(&self) -> &'static str {
        "postgres"
    }
}

/// A Redis answer slower than this counts as Redis being down.
const PUBLISH_TIMEOUT: Duration = Duration::from_millis(250);

#[derive(Default)]
struct Publisher {
    manager: Option<redis::aio::ConnectionManager>,
    down_until: Option<Instant>,
}

/// Redis `PUBLISH`/`SUBSCRIBE`.
pub struct RedisBus {
    client: redis::Client,
    channel: String,
    publisher: Mutex<Publisher>,
}

impl std::fmt::Debug for RedisBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBus")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

impl RedisBus {
    /// A bus on the Redis at `url`. Connects lazily, so a node starts while Redis is down.
    pub fn new(url: &str, channel: String) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(|e| StoreError::Bus(e.to_string()))?;
        Ok(Self {
            client,
            channel,
            publisher: Mutex::new(Publisher::default()),
        })
    }
}

#[async_trait]
impl RevocationBus for RedisBus {
    async fn publish(&self, event: &BusEvent) -> Result<(), StoreError> {
        let payload =
            serde_json::to_string(event).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut publisher = self.publisher.lock().await;
        if publisher
            .down_until
            .is_some_and(|until| Instant::now() < until)
        {
            return Err(StoreError::Bus(
                "Redis was unreachable moments ago".to_owned(),
            ));
        }
        let sent = tokio::time::timeout(PUBLISH_TIMEOUT, async {
            // A connection made before an outage answers "broken pipe" once Redis is back:
            // drop it and try once more on a fresh one.
            for attempt in 0..2 {
                if publisher.manager.is_none() {
                    publisher.manager = Some(
                        redis::aio::ConnectionManager::new_with_config(
                            self.client.clone(),
                            // Fail fast: the caller has its own timeout and a local fallback.
                            redis::aio::ConnectionManagerConfig::new()
                                .set_number_of_retries(0)
                                .set_connection_timeout(Some(Duration::from_millis(200))),
                        )
                        .await?,
                    );
                }
                let Some(connection) = publisher.manager.as_mut() else {
                    break;
                };
                match redis::cmd("PUBLISH")
                    .arg(&self.channel)
                    .arg(&payload)
                    .query_async::<i64>(connection)
                    .await
                {
                    Ok(receivers) => return Ok(receivers),
                    Err(_) if attempt == 0 => publisher.manager = None,
                    Err(error) => return Err(error),
                }
            }
            Err(redis::RedisError::from((
                redis::ErrorKind::Io,
                "no connection",
            )))
        })
        .await;
        match sent {
            Ok(Ok(_)) => {
                publisher.down_until = None;
                Ok(())
            }
            // A Redis that does not answer must not slow every logout down: back off (the
            // reconcile carries the revocation). One that refuses at once costs nothing to retry.
            failed => {
                publisher.manager = None;
                if failed.is_err() {
                    publisher.down_until = Some(Instant::now() + RETRY);
                }
                Err(StoreError::Bus(match failed {
                    Ok(Err(error)) => error.to_string(),
                    _ => "timed out".to_owned(),
                }))
            }
        }
    }

    fn listen(&self, handler: Arc<dyn BusHandler>) {
        let (client, channel) = (self.client.clone(), self.channel.clone());
        tokio::spawn(async move {
            loop {
                match client.get_async_pubsub().await {
                    Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                        Ok(()) => {
                            handler.reconnected();
                            let mut messages = pubsub.on_message();
                            while let Some(message) = messages.next().await {
                                if let Some(event) = message
                                    .get_payload::<String>()
                                    .ok()
                                    .as_deref()
                                    .and_then(decode)
                                {
                                    handler.event(event);
                                }
                            }
                            tracing::warn!("revocation bus (Redis) lost its connection");
                        }
                        Err(error) => tracing::warn!(error = %error, "SUBSCRIBE failed"),
                    },
                    Err(error) => {
                        tracing::warn!(error = %error, "revocation bus (Redis) cannot connect")
                    }
                }
                tokio::time::sleep(RETRY).await;
            }
        });
    }

    fn name(&self) -> &'static str {
        "redis"
    }
}
