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
    /// Clients that found a warm session open (checked first when it had paused).
    pub reused_count: u64,
    /// Sessions opened again after one was found dead or failed (each counted once,
    /// however many attempts it took).
    pub reconnects: u64,
    /// Liveness checks run on sessions used again after a pause.
    pub liveness_checks: u64,
    /// Sessions a liveness check found dead (no pong in time, or the connection gone).
    pub dead_sessions: u64,
    /// Subscriptions made again on a new session.
    pub resubscribed: u64,
    /// The round trip of the last liveness check, in microseconds.
    pub last_latency_us: Option<u64>,
    /// Commands sent (liveness pings included).
    pub commands_sent: u64,
    /// Events and other messages the backlogs dropped to stay within their bounds.
    pub events_dropped: u64,
}
