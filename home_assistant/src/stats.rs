//! Counters of the Home Assistant client in this process.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// Counters of the Home Assistant client in this process.
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

pub(crate) static AUTHS: AtomicU64 = AtomicU64::new(0);
pub(crate) static REUSED: AtomicU64 = AtomicU64::new(0);
pub(crate) static RECONNECTS: AtomicU64 = AtomicU64::new(0);
pub(crate) static COMMANDS: AtomicU64 = AtomicU64::new(0);
pub(crate) static DROPPED: AtomicU64 = AtomicU64::new(0);

/// A snapshot of [`HaStats`].
pub fn stats() -> HaStats {
    HaStats {
        auth_count: AUTHS.load(Ordering::Relaxed),
        reused_count: REUSED.load(Ordering::Relaxed),
        reconnects: RECONNECTS.load(Ordering::Relaxed),
        commands_sent: COMMANDS.load(Ordering::Relaxed),
        events_dropped: DROPPED.load(Ordering::Relaxed),
    }
}

pub(crate) fn bump(counter: &AtomicU64) {
    add(counter, 1);
}

pub(crate) fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}
