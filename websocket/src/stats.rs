//! Counters of the connection manager.

use serde::{Deserialize, Serialize};

/// A snapshot of the manager's counters.
///
/// `total_operations` counts operations the rate limiter admitted; `errors_count` those of
/// them that failed; `rate_limited_count` those it refused. `connections_count` counts
/// connections opened since the last reset.
///
/// ```
/// let stats = websocket::Stats::default();
/// let json = serde_json::to_value(&stats).unwrap();
/// assert_eq!(json["max_rate_limit"], 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Operations admitted by the rate limiter.
    pub total_operations: u64,
    /// Connections opened.
    pub connections_count: u64,
    /// Messages sent.
    pub messages_sent_count: u64,
    /// Messages received.
    pub messages_received_count: u64,
    /// Admitted operations that failed.
    pub errors_count: u64,
    /// Operations refused by the rate limiter.
    pub rate_limited_count: u64,
    /// Operations inside the current window.
    pub current_rate_limit_size: usize,
    /// Operations allowed per window.
    pub max_rate_limit: usize,
    /// Liveness checks run on held connections after a pause.
    pub liveness_checks: u64,
    /// Held connections a liveness check found dead.
    pub dead_connections: u64,
    /// Dead connections opened again under the same handle.
    pub reconnects_count: u64,
    /// The round trip of the last liveness check, in microseconds (absent before one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_latency_us: Option<u64>,
}
