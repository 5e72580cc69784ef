//! Counters of a Home Assistant client instance.

use serde::Serialize;

/// Counters of a [`HomeAssistant`](crate::HomeAssistant) instance.
///
/// ```
/// let stats = home_assistant::stats();
/// assert!(stats.auth_count >= stats.reconnects);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct HaStats {
    /// Sessions opened and authenticated.
    pub auth_count: u64,
    /// Times a warm session was reused after a successful liveness check.
    pub reused_count: u64,
    /// Times a warm session was found dead and replaced.
    pub reconnects: u64,
    /// Commands sent (liveness pings included).
    pub commands_sent: u64,
    /// Events and other messages the backlogs dropped to stay within their bounds.
    pub events_dropped: u64,
}
