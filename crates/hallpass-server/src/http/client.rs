//! Who is on the other end ([`Client`]: address and user agent, for rate limits, audit and the
//! device list), read from the connection and its headers.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use axum::{
    extract::{ConnectInfo, FromRef, FromRequestParts},
    http::{HeaderMap, header, request::Parts},
};
use hallpass_core::session::clean_user_agent;

use crate::{config::ServerConfig, operation::Client};

/// The client's address and user agent, from the connection and its headers.
impl<S> FromRequestParts<S> for Client
where
    S: Send + Sync,
    Arc<ServerConfig>: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // Only the config sub-state: this runs on every login, signup and write.
        let config = Arc::<ServerConfig>::from_ref(state);
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |info| info.0.ip());
        Ok(Self {
            ip: client_ip(peer, &parts.headers, &config),
            user_agent: parts
                .headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(clean_user_agent)
                .filter(|ua| !ua.is_empty()),
        })
    }
}

/// The rightmost `X-Forwarded-For` hop that is not a trusted proxy. The leftmost entries are
/// whatever the client chose to send, so believing them would let anyone dodge per-IP limits.
fn client_ip(peer: IpAddr, headers: &HeaderMap, config: &ServerConfig) -> IpAddr {
    if !config.trusted_proxies.contains(&peer) {
        return peer;
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|hop| hop.trim().parse().ok())
        .collect();
    hops.into_iter()
        .rev()
        .find(|hop| !config.trusted_proxies.contains(hop))
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use axum::http::HeaderValue;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let config = ServerConfig::from_settings(&Settings {
            trusted_proxies: vec!["10.0.0.1".to_owned()],
            ..Settings::default()
        });
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 1.2.3.4, 10.0.0.1"),
        );
        assert_eq!(
            client_ip([10, 0, 0, 1].into(), &headers, &config),
            IpAddr::from([1, 2, 3, 4])
        );
        assert_eq!(
            client_ip([9, 9, 9, 9].into(), &headers, &config),
            IpAddr::from([9, 9, 9, 9])
        );
        assert_eq!(
            client_ip([10, 0, 0, 1].into(), &HeaderMap::new(), &config),
            IpAddr::from([10, 0, 0, 1])
        );
    }
}
