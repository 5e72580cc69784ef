//! Settings of the connection manager.

use std::time::Duration;

/// The default largest message: Lambda answers a synchronous invocation with at most 6 MB
/// (6 MiB), and a message comes back inside an envelope; 4 KiB is the envelope's room.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = (6 << 20) - (4 << 10);

/// What is core-wide in a [`WebSocketCore`](crate::WebSocketCore): the registry's bound and
/// the rate limit. What each connection gets — timeouts, sizes, headers, trust, proxies —
/// is its [`ConnectionConfig`](crate::ConnectionConfig).
///
/// ```
/// let config = websocket::ManagerConfig::default()
///     .max_connections(8)
///     .rate_limit(100, std::time::Duration::from_millis(500));
/// assert_eq!(config.max_connections, 8);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ManagerConfig {
    /// Open connections the registry holds at most. Default 64.
    pub max_connections: usize,
    /// Operations admitted per window. Default 300.
    pub rate_limit_max: usize,
    /// Length of the sliding window. Default 1000 ms.
    pub rate_limit_window: Duration,
}

impl Default for ManagerConfig {
    fn default() -> Self {
        ManagerConfig {
            max_connections: 64,
            rate_limit_max: 300,
            rate_limit_window: Duration::from_millis(1000),
        }
    }
}

impl ManagerConfig {
    /// Sets the registry bound (default 64).
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n;
        self
    }

    /// Sets the rate limit: `max` operations per `window` (default 300 per 1000 ms).
    pub fn rate_limit(mut self, max: usize, window: Duration) -> Self {
        self.rate_limit_max = max;
        self.rate_limit_window = window;
        self
    }

    /// Turns the rate limit off (tools and test harnesses that must not be throttled).
    ///
    /// ```
    /// let config = websocket::ManagerConfig::default().without_rate_limit();
    /// assert_eq!(config.rate_limit_max, usize::MAX);
    /// ```
    pub fn without_rate_limit(mut self) -> Self {
        self.rate_limit_max = usize::MAX;
        self
    }
}
