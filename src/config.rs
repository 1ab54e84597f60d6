//! Settings from flags and environment variables. Secrets never reach `Debug` output or logs.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// A value that must not be printed (database URLs carry passwords).
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where the data lives: an external server, or the private cluster under a directory.
#[derive(Debug, Clone)]
pub enum DbSource {
    Url(Secret),
    Private(PathBuf),
}

/// See [`WebConfig::session_touch`].
pub const SESSION_TOUCH: Duration = Duration::from_secs(300);

#[derive(Debug, Clone)]
pub struct WebConfig {
    pub addr: SocketAddr,
    /// Mark session cookies `Secure` (set when served over HTTPS).
    pub secure_cookies: bool,
    pub session_idle: Duration,
    /// A signed-in session is written back (its idle deadline moved) at most this often while it
    /// is used, not on every request: the idle timeout is `session_idle` give or take this much.
    pub session_touch: Duration,
    pub request_timeout: Duration,
    /// Extra origins allowed to POST (e.g. the public https origin behind a proxy).
    pub trusted_origins: Vec<String>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (`web::client_ip`); empty: none.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Where Prometheus metrics are served (`--metrics-addr`); None: nowhere. Never the public
    /// address.
    pub metrics_addr: Option<SocketAddr>,
    /// Duplicate-check similarity thresholds (`--dup-probable`, `--dup-possible`).
    pub duplicates: crate::domain::duplicates::Thresholds,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            secure_cookies: false,
            session_idle: Duration::from_secs(8 * 3600),
            session_touch: SESSION_TOUCH,
            request_timeout: Duration::from_secs(30),
            trusted_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            metrics_addr: None,
            duplicates: crate::domain::duplicates::Thresholds::default(),
        }
    }
}

/// One entry of `GIUPDO_TRUSTED_PROXIES` / `--trusted-proxies`: an address (`127.0.0.1`, `::1`) or
/// a CIDR range (`10.0.0.0/8`). A bad one stops `serve` at start with this message.
pub fn parse_trusted_proxy(s: &str) -> Result<ipnet::IpNet, String> {
    let s = s.trim();
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map(|n| n.trunc())
        .map_err(|_| {
            format!(
                "«{s}» không phải là địa chỉ IP hay dải địa chỉ CIDR của máy chủ proxy \
                 (ví dụ: 127.0.0.1, ::1 hoặc 10.0.0.0/8; nhiều giá trị cách nhau bằng dấu phẩy)."
            )
        })
}
