//! The address of the person making a request. Behind a reverse proxy every request arrives from
//! the proxy; the proxy says who its client was in `X-Forwarded-For`. That header is believed only
//! from the proxies the operator named (`GIUPDO_TRUSTED_PROXIES`), and then only its right-most
//! entry that is not itself a trusted proxy: anything to its left was written by the client and
//! can be forged. With no trusted proxy configured, the header is ignored.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use super::AppState;

/// The client's address, as [`client_ip`] decides it.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(ClientIp(client_ip(
            peer,
            &state.config.trusted_proxies,
            &parts.headers,
        )))
    }
}

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    proxies.iter().any(|net| net.contains(&ip))
}

/// One `X-Forwarded-For` entry: an address, possibly with a port or in brackets.
fn parse_entry(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    s.parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            s.strip_prefix('[')
                .and_then(|r| r.strip_suffix(']'))
                .and_then(|r| r.parse().ok())
        })
        .map(|ip: IpAddr| ip.to_canonical())
}

/// The client address of a request that arrived from `peer`.
pub fn client_ip(peer: IpAddr, proxies: &[IpNet], headers: &HeaderMap) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted(peer, proxies) {
        return peer;
    }
    // Every X-Forwarded-For line, in order, as one list; walk it from the right.
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut client = peer;
    for entry in entries.iter().rev() {
        match parse_entry(entry) {
            Some(ip) if trusted(ip, proxies) => client = ip,
            Some(ip) => return ip,
            // Not an address: no trusted proxy wrote it, so the last trusted hop is all we know.
            None => return client,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter()
            .map(|s| crate::config::parse_trusted_proxy(s).unwrap())
            .collect()
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        let peer: IpAddr = "203.0.113.9".parse().unwrap();
        let h = headers(&["1.1.1.1"]);
        assert_eq!(client_ip(peer, &[], &h), peer, "no proxy configured");
        assert_eq!(
            client_ip(peer, &nets(&["10.0.0.0/8"]), &h),
            peer,
            "peer not trusted"
        );
    }

    #[test]
    fn the_right_most_untrusted_entry_is_the_client() {
        let proxies = nets(&["127.0.0.1", "10.0.0.0/8"]);
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        // The client forged "6.6.6.6"; nginx appended the real 198.51.100.7; an inner proxy 10.0.0.2.
        let h = headers(&["6.6.6.6, 198.51.100.7", "10.0.0.2"]);
        assert_eq!(
            client_ip(peer, &proxies, &h),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        // Garbage right of the trusted hops: the last trusted hop.
        let h = headers(&["not-an-ip, 10.0.0.2"]);
        assert_eq!(
            client_ip(peer, &proxies, &h),
            "10.0.0.2".parse::<IpAddr>().unwrap()
        );
        // Ports, brackets and IPv4-mapped IPv6 are read.
        let h = headers(&["[2001:db8::1]:5555"]);
        assert_eq!(
            client_ip(peer, &proxies, &h),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
        let h = headers(&["::ffff:198.51.100.8"]);
        assert_eq!(
            client_ip(peer, &proxies, &h),
            "198.51.100.8".parse::<IpAddr>().unwrap()
        );
        // No header: the proxy itself.
        assert_eq!(client_ip(peer, &proxies, &HeaderMap::new()), peer);
    }
}
