//! Warm sessions: authenticated sessions kept between invocations of one process, keyed by
//! URL and a hash of the token.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::Duration;

use once_cell::sync::Lazy;
use parking_lot::Mutex;

use crate::config::HaConfig;
use contract::Deadline;

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

/// Closes every pooled session, all of them within `timeout` (a session busy in another
/// thread is left to it and closes when it is done).
///
/// ```
/// home_assistant::close_all_sessions(std::time::Duration::from_millis(200));
/// ```
pub fn close_all_sessions(timeout: Duration) {
    let deadline = Deadline::after(timeout);
    let budget = &deadline;
    let entries: Vec<Entry> = POOL.lock().drain().map(|(_, e)| e).collect();
    for entry in entries {
        if let Some(mut slot) = entry.try_lock_for(budget.left()) {
            if let Some(session) = slot.take() {
                session.close(budget);
            }
        }
    }
}
