//! The same limits shared by every node through Redis, so that a client spreading its attempts
//! over the nodes behind a load balancer gets no more of them.

use std::time::{Duration, Instant};

use tokio::sync::Mutex;

/// Counts attempts per address in a window that starts at the first one; answers the count and
/// the seconds left in the window.
const IP_SCRIPT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('TTL', KEYS[1])}
";

/// Counts a failure; from the threshold on, locks until now + min(first · 2^(n − threshold), max).
/// ARGV: now (ms), threshold, first lockout (ms), max lockout (ms).
const FAILURE_SCRIPT: &str = r"
local n = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local threshold = tonumber(ARGV[2])
if n >= threshold then
  local lock = math.min(tonumber(ARGV[3]) * (2 ^ math.min(n - threshold, 20)), tonumber(ARGV[4]))
  redis.call('HSET', KEYS[1], 'locked_until', tonumber(ARGV[1]) + lock)
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]) + 86400000)
return n
";

/// Counts one post in a minute's counter, which outlives its minute (the minute comes from the
/// injected clock, the expiry from Redis's own) and is then dropped. ARGV: expiry (ms).
const POST_SCRIPT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
";

/// A Redis answer slower than this counts as Redis being down.
const TIMEOUT: Duration = Duration::from_millis(250);
/// After a failure, Redis is not tried again for this long.
const BACK_OFF: Duration = Duration::from_secs(5);

fn unreachable(why: &'static str) -> redis::RedisError {
    redis::RedisError::from((redis::ErrorKind::Io, why))
}

#[derive(Default)]
struct Connection {
    manager: Option<redis::aio::ConnectionManager>,
    down_until: Option<Instant>,
}

/// The Redis side of the limits.
pub(super) struct SharedLimits {
    client: redis::Client,
    prefix: String,
    connection: Mutex<Connection>,
}

impl SharedLimits {
    pub(super) fn new(url: &str, prefix: String) -> Result<Self, redis::RedisError> {
        Ok(Self {
            client: redis::Client::open(url)?,
            prefix,
            connection: Mutex::new(Connection::default()),
        })
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        command: &redis::Cmd,
    ) -> Result<T, redis::RedisError> {
        let mut guard = self.connection.lock().await;
        if let Some(until) = guard.down_until
            && Instant::now() < until
        {
            return Err(unreachable("recently unreachable"));
        }
        let attempt = tokio::time::timeout(TIMEOUT, async {
            // A connection made before an outage fails once Redis is back: retry on a fresh one.
            for retry in 0..2 {
                if guard.manager.is_none() {
                    guard.manager = Some(
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
                let Some(connection) = guard.manager.as_mut() else {
                    break;
                };
                match command.query_async(connection).await {
                    Ok(answer) => return Ok(answer),
                    Err(_) if retry == 0 => guard.manager = None,
                    Err(error) => return Err(error),
                }
            }
            Err(unreachable("no connection"))
        })
        .await;
        let attempt = match attempt {
            Ok(answer) => answer,
            // No answer at all: do not make every login wait for it; count locally for a while.
            Err(_) => {
                guard.down_until = Some(Instant::now() + BACK_OFF);
                Err(unreachable("timed out"))
            }
        };
        match &attempt {
            Ok(_) => guard.down_until = None,
            Err(_) => guard.manager = None,
        }
        attempt
    }

    /// One attempt from the client `ip` (a [`ClientKey`](crate::infra::client_key::ClientKey));
    /// `Some(wait)` when over `per_minute`.
    pub(super) async fn hit_ip(
        &self,
        ip: &str,
        per_minute: u32,
    ) -> Result<Option<Duration>, redis::RedisError> {
        let key = format!("{}ip:{ip}", self.prefix);
        let mut command = redis::cmd("EVAL");
        command.arg(IP_SCRIPT).arg(1).arg(key).arg(60);
        let (count, ttl): (u64, i64) = self.run(&command).await?;
        Ok((count > u64::from(per_minute))
            .then(|| Duration::from_secs(u64::try_from(ttl.max(1)).unwrap_or(1))))
    }

    /// When the lockee under `key` ([`Lockee::key`](super::Lockee)) is locked until, in unix
    /// milliseconds.
    pub(super) async fn locked_until(&self, key: &str) -> Result<Option<i64>, redis::RedisError> {
        let mut command = redis::cmd("HGET");
        command
            .arg(format!("{}{key}", self.prefix))
            .arg("locked_until");
        self.run(&command).await
    }

    /// Counts a failure of the lockee under `key`.
    pub(super) async fn failure(
        &self,
        key: &str,
        now_ms: i64,
        threshold: u32,
        first: Duration,
        max: Duration,
    ) -> Result<(), redis::RedisError> {
        let mut command = redis::cmd("EVAL");
        command
            .arg(FAILURE_SCRIPT)
            .arg(1)
            .arg(format!("{}{key}", self.prefix))
            .arg(now_ms)
            .arg(threshold)
            .arg(u64::try_from(first.as_millis()).unwrap_or(u64::MAX))
            .arg(u64::try_from(max.as_millis()).unwrap_or(u64::MAX));
        self.run::<i64>(&command).await.map(|_| ())
    }

    /// Clears the failures of the lockee under `key`.
    pub(super) async fn success(&self, key: &str) -> Result<(), redis::RedisError> {
        let mut command = redis::cmd("DEL");
        command.arg(format!("{}{key}", self.prefix));
        self.run::<i64>(&command).await.map(|_| ())
    }

    /// One post by `author` in `minute`; the count so far, this one included.
    pub(super) async fn hit_post(
        &self,
        author: &str,
        minute: i64,
    ) -> Result<u64, redis::RedisError> {
        let mut command = redis::cmd("EVAL");
        command
            .arg(POST_SCRIPT)
            .arg(1)
            .arg(format!("{}posts:{author}:{minute}", self.prefix))
            .arg(120_000);
        self.run(&command).await
    }
}
