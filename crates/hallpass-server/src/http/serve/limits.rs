//! The caps on connections: what the settings and the open-file limit allow, and the count of
//! what is open, in all and per client address.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use crate::{
    config::{ConfigDuration, Settings},
    infra::client_key::{ClientKey, Ipv6Prefix},
    telemetry::Metrics,
};

/// Descriptors kept back from connections when the cap is derived from the open-file limit: the
/// database pool (16 PostgreSQL connections, or SQLite's 8 plus its WAL and shm files), the
/// revocation bus and Redis, the listener, the runtime's epoll and wake descriptors, the key file,
/// logs, and HTTPS calls to social login providers, with room to spare: running out fails
/// requests already admitted, which is worse than refusing a connection.
const RESERVED_FDS: u64 = 128;
/// The largest derived cap. An idle HTTP/1 connection holds hyper's buffers (8 KiB and up), so a
/// huge limit (`ulimit -n 1048576`) must not turn into a memory budget; set `max_connections`
/// to go higher.
const MAX_DERIVED_CONNECTIONS: u64 = 16_384;
/// The smallest derived cap, for tiny limits (accept errors are then handled by backing off).
const MIN_DERIVED_CONNECTIONS: u64 = 32;

/// How connections are limited; built once at start.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionLimits {
    /// A request's headers must arrive within this; none: no limit.
    pub header_read_timeout: Option<Duration>,
    /// A connection with no request in flight for this long is closed; none: never.
    pub keep_alive_timeout: Option<Duration>,
    /// Open connections at most.
    pub max_connections: usize,
    /// Open connections per client address at most; none: no per-address cap.
    pub max_connections_per_ip: Option<usize>,
    /// Addresses exempt from the per-address cap: a trusted proxy carries many clients.
    pub exempt: Vec<IpAddr>,
    /// IPv6 peers are counted by this prefix, as the rate limits count them.
    pub ipv6_prefix: Ipv6Prefix,
}

impl ConnectionLimits {
    /// The limits the settings ask for. Raises the open-file soft limit to the hard limit first
    /// (logging both), because the default total cap is derived from it.
    pub(crate) fn from_settings(settings: &Settings) -> Self {
        let open_files = raise_open_file_limit();
        let derived = open_files.map_or(MAX_DERIVED_CONNECTIONS, |limit| {
            limit
                .saturating_sub(RESERVED_FDS)
                .clamp(MIN_DERIVED_CONNECTIONS, MAX_DERIVED_CONNECTIONS)
        });
        let derived = usize::try_from(derived).unwrap_or(usize::MAX);
        let max_connections = settings.max_connections.unwrap_or(derived);
        if let Some(limit) = open_files
            && max_connections as u64 > limit.saturating_sub(RESERVED_FDS)
        {
            tracing::warn!(
                max_connections,
                open_file_limit = limit,
                "max_connections leaves fewer than {RESERVED_FDS} descriptors for the database and files"
            );
        }
        // One address may never take every slot, whatever the setting says.
        let max_connections_per_ip = (settings.max_connections_per_ip > 0).then(|| {
            settings
                .max_connections_per_ip
                .min((max_connections / 2).max(1))
        });
        let limits = Self {
            header_read_timeout: nonzero(settings.header_read_timeout),
            keep_alive_timeout: nonzero(settings.keep_alive_timeout),
            max_connections,
            max_connections_per_ip,
            exempt: settings
                .trusted_proxies
                .iter()
                .filter_map(|proxy| proxy.parse::<IpAddr>().ok())
                .map(|ip| ip.to_canonical())
                .collect(),
            ipv6_prefix: settings.rate_limit.ipv6_prefix,
        };
        tracing::info!(
            max_connections,
            max_connections_per_ip = ?limits.max_connections_per_ip,
            header_read_timeout = ?limits.header_read_timeout,
            keep_alive_timeout = ?limits.keep_alive_timeout,
            "connection limits"
        );
        limits
    }
}

fn nonzero(duration: ConfigDuration) -> Option<Duration> {
    Some(duration.std()).filter(|d| !d.is_zero())
}

/// Raises the soft RLIMIT_NOFILE to the hard one (a service manager often leaves the soft one
/// at 1024 for old `select()` users; we use epoll) and returns the soft limit now in force.
#[cfg(unix)]
fn raise_open_file_limit() -> Option<u64> {
    let (soft, hard) = match rlimit::Resource::NOFILE.get() {
        Ok(limits) => limits,
        Err(error) => {
            tracing::warn!(%error, "could not read the open-file limit");
            return None;
        }
    };
    let now = rlimit::increase_nofile_limit(hard).unwrap_or_else(|error| {
        tracing::warn!(%error, soft, hard, "could not raise the open-file limit");
        soft
    });
    tracing::info!(soft = now, hard, was = soft, "open-file limit");
    Some(now)
}

#[cfg(not(unix))]
fn raise_open_file_limit() -> Option<u64> {
    None
}

/// The caps: how many connections are open, in all and per client (an IPv4 address or an IPv6
/// network, see [`ClientKey`]).
pub(super) struct Admission {
    max_connections: usize,
    max_connections_per_ip: Option<usize>,
    exempt: Vec<IpAddr>,
    ipv6_prefix: Ipv6Prefix,
    counts: Mutex<Counts>,
    metrics: Metrics,
}

#[derive(Default)]
struct Counts {
    total: usize,
    by_ip: HashMap<ClientKey, usize>,
}

impl Admission {
    pub(super) fn new(limits: &ConnectionLimits, metrics: Metrics) -> Self {
        Self {
            max_connections: limits.max_connections,
            max_connections_per_ip: limits.max_connections_per_ip,
            exempt: limits.exempt.clone(),
            ipv6_prefix: limits.ipv6_prefix,
            counts: Mutex::default(),
            metrics,
        }
    }

    /// A place for a connection from `ip`, or the name of the cap that is full.
    pub(super) fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, &'static str> {
        // An IPv4 client on a dual-stack socket arrives as ::ffff:a.b.c.d; count it as a.b.c.d.
        let ip = ip.to_canonical();
        let client = ClientKey::new(ip, self.ipv6_prefix);
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if counts.total >= self.max_connections {
            return Err("max_connections");
        }
        let from_ip = counts.by_ip.get(&client).copied().unwrap_or(0);
        if let Some(cap) = self.max_connections_per_ip
            && from_ip >= cap
            && !self.exempt.contains(&ip)
        {
            return Err("max_connections_per_ip");
        }
        counts.total += 1;
        counts.by_ip.insert(client, from_ip + 1);
        self.metrics.connection_opened();
        Ok(Slot {
            admission: Arc::clone(self),
            client,
        })
    }
}

/// A connection's place under the caps, given back when dropped.
pub(super) struct Slot {
    admission: Arc<Admission>,
    client: ClientKey,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self
            .admission
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        counts.total = counts.total.saturating_sub(1);
        if let Some(from_ip) = counts.by_ip.get_mut(&self.client) {
            *from_ip = from_ip.saturating_sub(1);
            if *from_ip == 0 {
                counts.by_ip.remove(&self.client);
            }
        }
        self.admission.metrics.connection_closed();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(total: usize, per_ip: Option<usize>, exempt: &[&str]) -> Arc<Admission> {
        let limits = ConnectionLimits {
            header_read_timeout: None,
            keep_alive_timeout: None,
            max_connections: total,
            max_connections_per_ip: per_ip,
            exempt: exempt.iter().map(|ip| ip.parse().unwrap()).collect(),
            ipv6_prefix: Ipv6Prefix::DEFAULT,
        };
        Arc::new(Admission::new(&limits, Metrics::new()))
    }

    #[test]
    fn caps_count_per_address_and_in_all_and_free_their_place() {
        let caps = admission(3, Some(2), &["10.0.0.9"]);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        let first = caps.admit(a).unwrap();
        let _second = caps.admit(mapped).unwrap();
        assert_eq!(caps.admit(a).err(), Some("max_connections_per_ip"));
        let _third = caps.admit("10.0.0.2".parse().unwrap()).unwrap();
        assert_eq!(
            caps.admit("10.0.0.3".parse().unwrap()).err(),
            Some("max_connections")
        );
        drop(first);
        assert!(caps.admit(a).is_ok());
    }

    #[test]
    fn one_ipv6_network_counts_as_one_client() {
        let caps = admission(10, Some(2), &[]);
        let _a = caps.admit("2001:db8:1:2::a".parse().unwrap()).unwrap();
        let _b = caps.admit("2001:db8:1:2::b".parse().unwrap()).unwrap();
        assert_eq!(
            caps.admit("2001:db8:1:2:ffff::c".parse().unwrap()).err(),
            Some("max_connections_per_ip")
        );
        assert!(caps.admit("2001:db8:1:3::a".parse().unwrap()).is_ok());
    }

    #[test]
    fn trusted_proxies_pass_the_per_address_cap() {
        let caps = admission(10, Some(1), &["10.0.0.9"]);
        let proxy: IpAddr = "10.0.0.9".parse().unwrap();
        let slots: Vec<_> = (0..5).map(|_| caps.admit(proxy).unwrap()).collect();
        assert_eq!(slots.len(), 5);
    }
}
