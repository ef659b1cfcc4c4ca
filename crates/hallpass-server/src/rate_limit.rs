//! Abuse limits on login, token and signup (DESIGN §4 "Rate limits"):
//! a per-address budget, and a per-account lockout after consecutive failures that grows
//! exponentially and holds even against the right password until it passes.

use std::{
    collections::HashMap,
    net::IpAddr,
    num::NonZeroU32,
    sync::{Arc, Mutex},
    time::Duration,
};

use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock as _, DefaultClock},
};
use hallpass_core::clock::Clock;
use time::OffsetDateTime;

use crate::{config::RateLimitSettings, error::ApiError};

/// The first lockout; each further failure doubles it up to the configured maximum.
const FIRST_LOCKOUT: Duration = Duration::from_secs(30);
/// Accounts tracked at once; past this, entries that are not locked are forgotten first.
const MAX_TRACKED_ACCOUNTS: usize = 100_000;

mod shared;

/// Both limits; clones share state. With Redis configured the counts are shared by every node
/// (and each node falls back to its own counts while Redis is unreachable).
#[derive(Clone)]
pub struct RateLimits {
    per_ip: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
    accounts: Arc<AccountLockout>,
    shared: Option<Arc<shared::SharedLimits>>,
    per_ip_per_minute: u32,
}

impl RateLimits {
    /// Limits as configured; a 0 turns one off.
    pub fn new(settings: &RateLimitSettings, clock: Arc<dyn Clock>) -> Self {
        Self {
            shared: None,
            per_ip_per_minute: settings.per_ip_per_minute,
            per_ip: NonZeroU32::new(settings.per_ip_per_minute)
                .map(|n| Arc::new(RateLimiter::keyed(Quota::per_minute(n)))),
            accounts: Arc::new(AccountLockout {
                clock,
                threshold: settings.account_failures_before_lockout,
                max_lockout: settings.max_lockout.std(),
                entries: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Shares the counts through the Redis at `url`, under keys starting with `prefix`.
    pub fn shared_through(mut self, url: &str, prefix: String) -> anyhow::Result<Self> {
        self.shared = Some(Arc::new(shared::SharedLimits::new(url, prefix)?));
        Ok(self)
    }

    /// Spends one attempt of `ip`'s budget, or says when the next one is allowed.
    pub async fn check_ip(&self, ip: IpAddr) -> Result<(), ApiError> {
        if let (Some(shared), Some(_)) = (&self.shared, &self.per_ip) {
            match shared.hit_ip(&ip.to_string(), self.per_ip_per_minute).await {
                Ok(None) => return Ok(()),
                Ok(Some(retry_after)) => return Err(ApiError::RateLimited { retry_after }),
                Err(error) => {
                    tracing::warn!(error = %error, "shared rate limit unreachable; counting locally")
                }
            }
        }
        self.check_ip_locally(ip)
    }

    /// Refuses while `account` is locked.
    pub async fn check_account(&self, account: &str) -> Result<(), ApiError> {
        if let Some(shared) = self.shared.as_ref().filter(|_| self.accounts.threshold > 0) {
            match shared.locked_until(account).await {
                Ok(locked) => {
                    let now_ms =
                        i64::try_from(self.accounts.clock.now().unix_timestamp_nanos() / 1_000_000)
                            .unwrap_or(i64::MAX);
                    return match locked.filter(|until| *until > now_ms) {
                        Some(until) => Err(ApiError::RateLimited {
                            retry_after: Duration::from_millis(
                                u64::try_from(until - now_ms).unwrap_or(1000),
                            )
                            .max(Duration::from_secs(1)),
                        }),
                        None => Ok(()),
                    };
                }
                Err(error) => {
                    tracing::warn!(error = %error, "shared lockout unreachable; counting locally")
                }
            }
        }
        self.accounts.check(account)
    }

    /// Counts a failed attempt on `account`.
    pub async fn record_failure(&self, account: &str) {
        if let Some(shared) = self.shared.as_ref().filter(|_| self.accounts.threshold > 0) {
            let now_ms =
                i64::try_from(self.accounts.clock.now().unix_timestamp_nanos() / 1_000_000)
                    .unwrap_or(i64::MAX);
            let counted = shared
                .failure(
                    account,
                    now_ms,
                    self.accounts.threshold,
                    FIRST_LOCKOUT,
                    self.accounts.max_lockout,
                )
                .await;
            match counted {
                Ok(()) => return,
                Err(error) => {
                    tracing::warn!(error = %error, "shared lockout unreachable; counting locally")
                }
            }
        }
        self.accounts.record_failure(account);
    }

    /// A success clears the account's failures.
    pub async fn record_success(&self, account: &str) {
        if let Some(shared) = self.shared.as_ref().filter(|_| self.accounts.threshold > 0)
            && let Err(error) = shared.success(account).await
        {
            tracing::warn!(error = %error, "shared lockout unreachable");
        }
        self.accounts.record_success(account);
    }

    fn check_ip_locally(&self, ip: IpAddr) -> Result<(), ApiError> {
        let Some(limiter) = &self.per_ip else {
            return Ok(());
        };
        limiter
            .check_key(&ip)
            .map_err(|not_until| ApiError::RateLimited {
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
            })
    }

    /// The per-account lockout.
    pub fn accounts(&self) -> &AccountLockout {
        &self.accounts
    }

    /// Drops per-address state that has fully recovered; call periodically.
    pub fn forget_idle(&self) {
        if let Some(limiter) = &self.per_ip {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    locked_until: Option<OffsetDateTime>,
}

/// Consecutive failures per account (keyed by canonical username, existing or not, so that the
/// lockout itself reveals nothing about which accounts exist).
pub struct AccountLockout {
    clock: Arc<dyn Clock>,
    threshold: u32,
    max_lockout: Duration,
    entries: Mutex<HashMap<String, Failures>>,
}

impl AccountLockout {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Failures>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Refuses while the account is locked.
    pub fn check(&self, account: &str) -> Result<(), ApiError> {
        if self.threshold == 0 {
            return Ok(());
        }
        let now = self.clock.now();
        match self.entries().get(account).and_then(|f| f.locked_until) {
            Some(until) if until > now => Err(ApiError::RateLimited {
                retry_after: (until - now).try_into().unwrap_or(Duration::from_secs(1)),
            }),
            _ => Ok(()),
        }
    }

    /// Counts a failed attempt; from the threshold on, locks the account for 30 s, then 60 s, …
    pub fn record_failure(&self, account: &str) {
        if self.threshold == 0 {
            return;
        }
        let now = self.clock.now();
        let mut entries = self.entries();
        if entries.len() >= MAX_TRACKED_ACCOUNTS {
            entries.retain(|_, f| f.locked_until.is_some_and(|until| until > now));
            if entries.len() >= MAX_TRACKED_ACCOUNTS {
                entries.clear();
            }
        }
        let failures = entries.entry(account.to_owned()).or_insert(Failures {
            count: 0,
            locked_until: None,
        });
        failures.count = failures.count.saturating_add(1);
        if failures.count >= self.threshold {
            let doublings = (failures.count - self.threshold).min(20);
            let lockout = FIRST_LOCKOUT
                .saturating_mul(1 << doublings)
                .min(self.max_lockout);
            failures.locked_until = Some(now + lockout);
        }
    }

    /// A success clears the account's record.
    pub fn record_success(&self, account: &str) {
        self.entries().remove(account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigDuration;
    use hallpass_core::clock::ManualClock;

    fn lockout(clock: Arc<ManualClock>) -> RateLimits {
        let settings = RateLimitSettings {
            per_ip_per_minute: 2,
            account_failures_before_lockout: 3,
            max_lockout: ConfigDuration::minutes(15),
        };
        RateLimits::new(&settings, clock)
    }

    #[test]
    fn accounts_lock_after_consecutive_failures_for_growing_times() {
        let clock = Arc::new(ManualClock::new(OffsetDateTime::UNIX_EPOCH));
        let limits = lockout(clock.clone());
        let accounts = limits.accounts();
        accounts.record_failure("alice");
        accounts.record_failure("alice");
        assert!(accounts.check("alice").is_ok());
        accounts.record_failure("alice");
        assert!(
            matches!(accounts.check("alice"), Err(ApiError::RateLimited { retry_after }) if retry_after == Duration::from_secs(30))
        );
        assert!(accounts.check("bob").is_ok());
        clock.advance(time::Duration::seconds(30));
        assert!(accounts.check("alice").is_ok());
        accounts.record_failure("alice");
        assert!(
            matches!(accounts.check("alice"), Err(ApiError::RateLimited { retry_after }) if retry_after == Duration::from_secs(60))
        );
        for _ in 0..30 {
            accounts.record_failure("alice");
        }
        assert!(
            matches!(accounts.check("alice"), Err(ApiError::RateLimited { retry_after }) if retry_after == Duration::from_secs(900))
        );
        accounts.record_success("alice");
        assert!(accounts.check("alice").is_ok());
    }

    #[tokio::test]
    async fn addresses_have_a_budget() {
        let limits = lockout(Arc::new(ManualClock::new(OffsetDateTime::UNIX_EPOCH)));
        let ip: IpAddr = [10, 0, 0, 1].into();
        assert!(limits.check_ip(ip).await.is_ok());
        assert!(limits.check_ip(ip).await.is_ok());
        assert!(matches!(
            limits.check_ip(ip).await,
            Err(ApiError::RateLimited { .. })
        ));
        assert!(limits.check_ip([10, 0, 0, 2].into()).await.is_ok());
    }
}
