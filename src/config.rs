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
    /// Duplicate-check similarity thresholds (`GIUPDO_DUP_PROBABLE`, `GIUPDO_DUP_POSSIBLE`).
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
            duplicates: crate::domain::duplicates::Thresholds::from_env(),
        }
    }
}
