//! The name a per-client count is kept under: an IPv4 address, or an IPv6 network.
//!
//! One IPv6 subscriber is routinely handed a whole /64 (often a /56 or /48), and picks a fresh
//! interface id at will; counting each address separately would give them 2^64 budgets. So an
//! IPv6 client is counted by its prefix, and every per-address count (login, token and signup
//! limits, locally and in Redis, and the connection cap) goes through [`ClientKey`].

use std::{
    fmt,
    net::{IpAddr, Ipv6Addr},
};

use serde::{Deserialize, Serialize};

/// How many leading bits of an IPv6 address name one client: 32 to 128.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Ipv6Prefix(u8);

impl Ipv6Prefix {
    /// A /64, what one subscriber or one LAN gets from its provider.
    pub const DEFAULT: Self = Self(64);

    /// The prefix length in bits.
    pub fn bits(self) -> u8 {
        self.0
    }
}

impl Default for Ipv6Prefix {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl TryFrom<u8> for Ipv6Prefix {
    type Error = String;

    fn try_from(bits: u8) -> Result<Self, Self::Error> {
        // Shorter than /32 would put whole providers under one budget.
        if (32..=128).contains(&bits) {
            Ok(Self(bits))
        } else {
            Err(format!(
                "an IPv6 prefix length from 32 to 128 bits, not {bits}"
            ))
        }
    }
}

impl From<Ipv6Prefix> for u8 {
    fn from(prefix: Ipv6Prefix) -> Self {
        prefix.0
    }
}

/// One client for per-address counting: an IPv4 address (IPv4-mapped IPv6 included), or the
/// IPv6 network of the configured prefix length that holds the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ClientKey {
    network: IpAddr,
    /// The IPv6 prefix length; none for IPv4.
    bits: Option<u8>,
}

impl ClientKey {
    /// The client `ip` counts as, with IPv6 addresses grouped by `prefix`.
    pub(crate) fn new(ip: IpAddr, prefix: Ipv6Prefix) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(v4) => Self {
                network: IpAddr::V4(v4),
                bits: None,
            },
            IpAddr::V6(v6) => {
                let mask = u128::MAX
                    .checked_shl(u32::from(128 - prefix.bits()))
                    .unwrap_or(0);
                Self {
                    network: IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask)),
                    bits: Some(prefix.bits()),
                }
            }
        }
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.bits {
            Some(bits) => write!(f, "{}/{bits}", self.network),
            None => self.network.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ip: &str, bits: u8) -> String {
        ClientKey::new(ip.parse().unwrap(), Ipv6Prefix::try_from(bits).unwrap()).to_string()
    }

    #[test]
    fn ipv6_addresses_count_by_their_prefix() {
        assert_eq!(key("2001:db8:1:2:aaaa::1", 64), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:ffff::9", 64), "2001:db8:1:2::/64");
        assert_ne!(key("2001:db8:1:3::1", 64), key("2001:db8:1:2::1", 64));
        assert_eq!(key("2001:db8:1:2ff::1", 56), "2001:db8:1:200::/56");
        assert_eq!(key("2001:db8::1", 128), "2001:db8::1/128");
        assert_eq!(key("2001:db8:ffff::1", 32), "2001:db8::/32");
    }

    #[test]
    fn ipv4_and_mapped_ipv4_are_the_same_client() {
        assert_eq!(key("10.0.0.1", 64), "10.0.0.1");
        assert_eq!(key("::ffff:10.0.0.1", 64), "10.0.0.1");
        assert_eq!(
            ClientKey::new("::ffff:10.0.0.1".parse().unwrap(), Ipv6Prefix::DEFAULT),
            ClientKey::new("10.0.0.1".parse().unwrap(), Ipv6Prefix::DEFAULT)
        );
    }

    #[test]
    fn prefix_lengths_outside_32_to_128_are_refused() {
        for bad in [0, 31, 129, 255] {
            assert!(Ipv6Prefix::try_from(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_setting_is_read_and_checked_at_start() {
        let load = |value: &str| {
            crate::config::load(
                None,
                [(
                    "HALLPASS_RATE_LIMIT_IPV6_PREFIX".to_owned(),
                    value.to_owned(),
                )],
                &crate::config::Overrides::default(),
            )
        };
        let (settings, warnings) = load("56").unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(settings.rate_limit.ipv6_prefix.bits(), 56);
        let error = load("16").unwrap_err().to_string();
        assert!(error.contains("ipv6_prefix"), "{error}");
    }
}
