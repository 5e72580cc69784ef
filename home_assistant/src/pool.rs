//! Warm sessions: authenticated connections kept between invocations of one process,
//! keyed by URL and a hash of the token.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use once_cell::sync::Lazy;
use parking_lot::Mutex;
use serde::Serialize;

use crate::config::HaConfig;
use crate::session::HaSession;

/// A pool entry: `None` until (re)connected.
pub(crate) type Entry = Arc<Mutex<Option<HaSession>>>;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    url: String,
    token_hash: u64,
}

/// Process-local keyed hashing: the token's hash means nothing outside this process.
static HASHER: Lazy<std::collections::hash_map::RandomState> = Lazy::new(Default::default);
static POOL: Lazy<Mutex<HashMap<Key, Entry>>> = Lazy::new(Default::default);

pub(crate) fn entry(config: &HaConfig) -> Entry {
    let key = Key {
        url: config.ws_url().to_owned(),
        token_hash: HASHER.hash_one(config.token()),
    };
    Arc::clone(POOL.lock().entry(key).or_default())
}

/// Closes every pooled session (used by `reset`-style cleanups and tests).
///
/// ```
/// home_assistant::close_all_sessions();
/// ```
pub fn close_all_sessions() {
    let entries: Vec<Entry> = POOL.lock().drain().map(|(_, e)| e).collect();
    for entry in entries {
        if let Some(session) = entry.lock().take() {
            session.close("ha-pool");
        }
    }
}

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
}

pub(crate) static AUTHS: AtomicU64 = AtomicU64::new(0);
pub(crate) static REUSED: AtomicU64 = AtomicU64::new(0);
pub(crate) static RECONNECTS: AtomicU64 = AtomicU64::new(0);
pub(crate) static COMMANDS: AtomicU64 = AtomicU64::new(0);

/// A snapshot of [`HaStats`].
pub fn stats() -> HaStats {
    HaStats {
        auth_count: AUTHS.load(Ordering::Relaxed),
        reused_count: REUSED.load(Ordering::Relaxed),
        reconnects: RECONNECTS.load(Ordering::Relaxed),
        commands_sent: COMMANDS.load(Ordering::Relaxed),
    }
}

pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}
