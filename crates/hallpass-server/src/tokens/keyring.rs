//! The signing keys a node uses: loaded from the store (private halves sealed under the server
//! secret), created on first start, rotated on `key_rotation_interval` with pre-publication, and
//! reloaded periodically so keys rotated by another node or the CLI arrive within a minute.

use std::sync::{Arc, RwLock};

use anyhow::{Context, bail};
use aws_lc_rs::rand::SystemRandom;
use hallpass_core::token::{KeyMaterial, SigningAlg, SigningKey, Verifier};
use hallpass_store::{StoredKey, Stores};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

/// How often an unknown `kid` may make a node re-read its keys.
const UNKNOWN_KEY_RELOAD: std::time::Duration = std::time::Duration::from_secs(10);

/// A new key is published this long before it signs, so verifiers that cache the JWKS learn it first.
pub const PREPUBLISH: Duration = Duration::hours(1);

/// The keys in force at one moment.
#[derive(Debug)]
pub struct KeySet {
    /// The key that signs new tokens.
    pub signer: SigningKey,
    /// Checks tokens signed by any published key.
    pub verifier: Verifier,
    /// `{keys: [...]}` for `/.well-known/jwks.json`.
    pub jwks: Value,
}

/// How the key ring is configured.
#[derive(Debug, Clone)]
pub struct KeyPolicy {
    /// Algorithm of new keys.
    pub alg: SigningAlg,
    /// How long a key signs before the next one takes over.
    pub rotation: Duration,
    /// How long a token may stay valid after its key stops signing: access TTL + skew.
    pub token_horizon: Duration,
    /// `iss` of tokens.
    pub issuer: String,
    /// `aud` of tokens.
    pub audience: String,
    /// Tolerated clock difference, seconds.
    pub skew_seconds: i64,
}

/// The node's key ring.
pub struct KeyRing {
    last_unknown_reload: std::sync::Mutex<Option<std::time::Instant>>,
    /// Held across a whole reload, so a slow reload cannot install an older view over a newer one.
    reloading: tokio::sync::Mutex<()>,
    stores: Stores,
    seal_key: [u8; 32],
    policy: KeyPolicy,
    current: RwLock<Arc<KeySet>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Loads the keys, creating the first one if there is none. Refuses to start when a stored
    /// key does not open with this secret: every node of a cluster must share the secret key.
    pub async fn start(
        stores: Stores,
        seal_key: [u8; 32],
        policy: KeyPolicy,
        now: OffsetDateTime,
    ) -> anyhow::Result<Self> {
        let stored = stores.keys.signing_keys(now).await?;
        if stored.is_empty() {
            // Nodes starting together on an empty database: one first key wins for all.
            let key = make_key(&policy, &seal_key, now, now)?;
            stores.keys.insert_first_signing_key(&key).await?;
        }
        let set = build(&stores, &seal_key, &policy, now).await?;
        Ok(Self {
            last_unknown_reload: std::sync::Mutex::new(None),
            reloading: tokio::sync::Mutex::new(()),
            stores,
            seal_key,
            policy,
            current: RwLock::new(Arc::new(set)),
        })
    }

    /// The keys in force.
    pub fn current(&self) -> Arc<KeySet> {
        Arc::clone(&self.current.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Re-reads the keys from the store.
    pub async fn reload(&self, now: OffsetDateTime) -> anyhow::Result<()> {
        let _serialised = self.reloading.lock().await;
        let set = build(&self.stores, &self.seal_key, &self.policy, now).await?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(set);
        Ok(())
    }

    /// A token named a key this node does not know: another node may have just made it (a
    /// rotation from the CLI, nodes that started together). Re-reads the keys, at most once every
    /// ten seconds, so junk `kid`s cannot turn into a database load. True if it re-read.
    pub async fn reload_for_unknown_key(&self, now: OffsetDateTime) -> bool {
        {
            let mut last = self
                .last_unknown_reload
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|at| at.elapsed() < UNKNOWN_KEY_RELOAD) {
                return false;
            }
            *last = Some(std::time::Instant::now());
        }
        self.reload(now).await.is_ok()
    }

    /// Rotates when the newest key is due to be replaced within the pre-publication window.
    pub async fn rotate_if_due(&self, now: OffsetDateTime) -> anyhow::Result<bool> {
        let stored = self.stores.keys.signing_keys(now).await?;
        let due = stored
            .last()
            .is_none_or(|newest| newest.activates_at + self.policy.rotation - PREPUBLISH <= now);
        if due {
            self.rotate(now).await?;
        }
        Ok(due)
    }

    /// Makes a new key that signs from `now + PREPUBLISH`, and retires the older ones once the
    /// last token they could have signed has expired.
    pub async fn rotate(&self, now: OffsetDateTime) -> anyhow::Result<String> {
        let key = make_key(&self.policy, &self.seal_key, now, now + PREPUBLISH)?;
        let older = self.stores.keys.signing_keys(now).await?;
        self.stores.keys.insert_signing_key(&key).await?;
        for old in older {
            self.stores
                .keys
                .retire_signing_key(&old.kid, key.activates_at + self.policy.token_horizon)
                .await?;
        }
        self.reload(now).await?;
        Ok(key.kid)
    }
}

fn make_key(
    policy: &KeyPolicy,
    seal_key: &[u8; 32],
    now: OffsetDateTime,
    activates_at: OffsetDateTime,
) -> anyhow::Result<StoredKey> {
    let rng = SystemRandom::new();
    let date = now.date();
    let kid = format!(
        "{}-{}",
        date,
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let material = KeyMaterial::generate(policy.alg, kid.clone(), &rng)?;
    Ok(StoredKey {
        kid,
        alg: policy.alg.as_str().to_owned(),
        sealed_private: material.seal(seal_key, &rng)?,
        public_jwk: material.public_jwk.to_string(),
        created_at: now,
        activates_at,
        retires_at: None,
    })
}

async fn build(
    stores: &Stores,
    seal_key: &[u8; 32],
    policy: &KeyPolicy,
    now: OffsetDateTime,
) -> anyhow::Result<KeySet> {
    let mut stored = stores.keys.signing_keys(now).await?;
    // The signer is the key that activated last; creation order breaks no ties that matter.
    stored.sort_by(|a, b| (a.activates_at, &a.kid).cmp(&(b.activates_at, &b.kid)));
    let mut keys = Vec::with_capacity(stored.len());
    for key in &stored {
        let alg = SigningAlg::parse(&key.alg).with_context(|| {
            format!("signing key {} has unknown algorithm {}", key.kid, key.alg)
        })?;
        let jwk: Value = serde_json::from_str(&key.public_jwk)
            .with_context(|| format!("signing key {}", key.kid))?;
        let material = KeyMaterial::open(key.kid.clone(), alg, &key.sealed_private, jwk, seal_key).with_context(|| {
            format!(
                "signing key {} cannot be decrypted: this node's secret key differs from the one that made it \
                 (every node of a cluster must share secret_key_file)",
                key.kid
            )
        })?;
        keys.push((key.activates_at, SigningKey::new(&material)?));
    }
    let Some(signer) = keys
        .iter()
        .filter(|(activates, _)| *activates <= now)
        .map(|(_, k)| k)
        .next_back()
        .or_else(|| keys.first().map(|(_, k)| k))
        .cloned()
    else {
        bail!("no signing key in force");
    };
    // HS256 secrets have no public half: nothing to publish.
    let published: Vec<Value> = keys
        .iter()
        .filter(|(_, k)| k.alg.is_public())
        .map(|(_, k)| k.public_jwk.clone())
        .collect();
    let jwks = json!({ "keys": published });
    let verifier = Verifier::new(
        keys.iter().map(|(_, k)| k.verifying()),
        policy.issuer.clone(),
        policy.audience.clone(),
        policy.skew_seconds,
    );
    Ok(KeySet {
        signer,
        verifier,
        jwks,
    })
}
