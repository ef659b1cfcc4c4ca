//! Abuse limits (docs/design.md §4 "Rate limits"): a per-client budget on login, token and signup
//! (IPv6 clients counted by prefix), a lockout after consecutive failures that grows
//! exponentially and holds even against the right password until it passes (per account, or per
//! known device: see [`Lockee`]), and a budget of board posts per account.

use std::{net::IpAddr, num::NonZeroU32, sync::Arc, time::Duration};

use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock as _, DefaultClock},
};
use hallpass_core::{clock::Clock, user::UserId};

use crate::{
    config::RateLimitSettings,
    infra::client_key::{ClientKey, Ipv6Prefix},
};

mod limited;
mod lockout;
mod posts;
mod shared;

pub(crate) use limited::Limited;
pub(crate) use lockout::Lockee;
use lockout::Lockout;

/// Every limit; clones share state. With Redis configured the counts are shared by every node
/// (and each node falls back to its own counts while Redis is unreachable).
#[derive(Clone)]
pub struct RateLimits {
    per_ip: Option<Arc<DefaultKeyedRateLimiter<ClientKey>>>,
    ipv6_prefix: Ipv6Prefix,
    lockout: Arc<Lockout>,
    posts: Arc<posts::PostCounts>,
    shared: Option<Arc<shared::SharedLimits>>,
    per_ip_per_minute: u32,
    posts_per_minute: u32,
}

fn unix_ms(clock: &dyn Clock) -> i64 {
    i64::try_from(clock.now().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

impl RateLimits {
    /// Limits as configured; a 0 turns one off.
    pub fn new(settings: &RateLimitSettings, clock: Arc<dyn Clock>) -> Self {
        Self {
            shared: None,
            per_ip_per_minute: settings.per_ip_per_minute,
            per_ip: NonZeroU32::new(settings.per_ip_per_minute)
                .map(|n| Arc::new(RateLimiter::keyed(Quota::per_minute(n)))),
            ipv6_prefix: settings.ipv6_prefix,
            lockout: Arc::new(Lockout::new(
                clock,
                settings.account_failures_before_lockout,
                settings.max_lockout.std(),
            )),
            posts: Arc::default(),
            posts_per_minute: settings.posts_per_minute,
        }
    }

    /// Shares the counts through the Redis at `url`, under keys starting with `prefix`.
    pub fn shared_through(mut self, url: &str, prefix: String) -> anyhow::Result<Self> {
        self.shared = Some(Arc::new(shared::SharedLimits::new(url, prefix)?));
        Ok(self)
    }

    /// Spends one attempt of the budget of the client at `ip` (its /64 for IPv6, by default),
    /// or says when the next one is allowed.
    pub async fn check_ip(&self, ip: IpAddr) -> Result<(), Limited> {
        let Some(limiter) = &self.per_ip else {
            return Ok(());
        };
        let client = ClientKey::new(ip, self.ipv6_prefix);
        if let Some(shared) = &self.shared {
            match shared
                .hit_ip(&client.to_string(), self.per_ip_per_minute)
                .await
            {
                Ok(None) => return Ok(()),
                Ok(Some(retry_after)) => return Err(Limited { retry_after }),
                Err(error) => {
                    tracing::warn!(error = %error, "shared rate limit unreachable; counting locally")
                }
            }
        }
        limiter.check_key(&client).map_err(|not_until| Limited {
            retry_after: not_until.wait_time_from(DefaultClock::default().now()),
        })
    }

    fn lockout_on(&self) -> bool {
        self.lockout.threshold > 0
    }

    /// Refuses while `lockee` is locked.
    pub async fn check_lockout(&self, lockee: Lockee<'_>) -> Result<(), Limited> {
        if let Some(shared) = self.shared.as_ref().filter(|_| self.lockout_on()) {
            match shared.locked_until(&lockee.key()).await {
                Ok(locked) => {
                    let now_ms = unix_ms(self.lockout.clock.as_ref());
                    return match locked.filter(|until| *until > now_ms) {
                        Some(until) => Err(Limited {
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
        self.lockout.check(&lockee)
    }

    /// Counts a failed attempt against `lockee`.
    pub async fn record_failure(&self, lockee: Lockee<'_>) {
        if let Some(shared) = self.shared.as_ref().filter(|_| self.lockout_on()) {
            let counted = shared
                .failure(
                    &lockee.key(),
                    unix_ms(self.lockout.clock.as_ref()),
                    self.lockout.threshold,
                    lockout::FIRST_LOCKOUT,
                    self.lockout.max_lockout,
                )
                .await;
            match counted {
                Ok(()) => return,
                Err(error) => {
                    tracing::warn!(error = %error, "shared lockout unreachable; counting locally")
                }
            }
        }
        self.lockout.record_failure(&lockee);
    }

    /// A success clears `lockee`'s failures.
    pub async fn record_success(&self, lockee: Lockee<'_>) {
        if let Some(shared) = self.shared.as_ref().filter(|_| self.lockout_on())
            && let Err(error) = shared.success(&lockee.key()).await
        {
            tracing::warn!(error = %error, "shared lockout unreachable");
        }
        self.lockout.record_success(&lockee);
    }

    /// Spends one of `author`'s board posts for this minute, or says when the next is allowed.
    pub async fn check_post(&self, author: UserId) -> Result<(), Limited> {
        if self.posts_per_minute == 0 {
            return Ok(());
        }
        let (minute, left) = posts::window(unix_ms(self.lockout.clock.as_ref()));
        let mut count = None;
        if let Some(shared) = &self.shared {
            match shared
                .hit_post(&author.0.simple().to_string(), minute)
                .await
            {
                Ok(n) => count = Some(n),
                Err(error) => {
                    tracing::warn!(error = %error, "shared post limit unreachable; counting locally")
                }
            }
        }
        let count = count.unwrap_or_else(|| u64::from(self.posts.hit(author, minute)));
        if count > u64::from(self.posts_per_minute) {
            return Err(Limited { retry_after: left });
        }
        Ok(())
    }

    /// Drops per-address state that has fully recovered; call periodically.
    pub fn forget_idle(&self) {
        if let Some(limiter) = &self.per_ip {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigDuration;
    use hallpass_core::clock::ManualClock;
    use time::OffsetDateTime;

    fn limits() -> RateLimits {
        let settings = RateLimitSettings {
            per_ip_per_minute: 2,
            account_failures_before_lockout: 3,
            max_lockout: ConfigDuration::minutes(15),
            ..RateLimitSettings::default()
        };
        RateLimits::new(
            &settings,
            Arc::new(ManualClock::new(OffsetDateTime::UNIX_EPOCH)),
        )
    }

    #[tokio::test]
    async fn addresses_have_a_budget() {
        let limits = limits();
        let ip: IpAddr = [10, 0, 0, 1].into();
        assert!(limits.check_ip(ip).await.is_ok());
        assert!(limits.check_ip(ip).await.is_ok());
        assert!(matches!(limits.check_ip(ip).await, Err(Limited { .. })));
        assert!(limits.check_ip([10, 0, 0, 2].into()).await.is_ok());
    }

    #[tokio::test]
    async fn one_ipv6_network_shares_one_budget() {
        let limits = limits();
        for ip in ["2001:db8:1:2::1", "2001:db8:1:2::2"] {
            assert!(limits.check_ip(ip.parse().unwrap()).await.is_ok());
        }
        assert!(
            limits
                .check_ip("2001:db8:1:2:ffff::3".parse().unwrap())
                .await
                .is_err()
        );
        assert!(
            limits
                .check_ip("2001:db8:1:3::1".parse().unwrap())
                .await
                .is_ok()
        );
    }
}
