//! Home Assistant's own connections: a core no JSON caller can name or exhaust, its own
//! rate accounting, and the warm sessions kept between invocations of one process, keyed
//! by URL and a hash of the token.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::{Duration, Instant};

use once_cell::sync::Lazy;
use parking_lot::Mutex;
use websocket::{ManagerConfig, RateLimiter, WebSocketCore};

use crate::config::HaConfig;
use crate::error::Result;
use crate::session::{Budget, HaSession};

/// Commands admitted per second, across every session of the process. Reading results and
/// events is not counted: only what is sent.
pub const COMMANDS_PER_SECOND: usize = 300;

/// The core Home Assistant's connections are opened on: not the gateway's, so a JSON
/// caller can neither name its connections nor fill its places; its own limiter (not the
/// core's) counts commands.
static CORE: Lazy<WebSocketCore> =
    Lazy::new(|| WebSocketCore::new(ManagerConfig::default().without_rate_limit()));

static LIMITER: Lazy<Mutex<RateLimiter>> = Lazy::new(|| {
    Mutex::new(RateLimiter::new(
        COMMANDS_PER_SECOND,
        Duration::from_secs(1),
    ))
});

pub(crate) fn core() -> &'static WebSocketCore {
    &CORE
}

/// Counts one command against the limit, or refuses it.
pub(crate) fn admit_command() -> Result<()> {
    if LIMITER.lock().try_acquire(Instant::now()) {
        Ok(())
    } else {
        Err(websocket::Error::RateLimited {
            max: COMMANDS_PER_SECOND,
            window: Duration::from_secs(1),
        }
        .into())
    }
}

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
    let budget = Budget::new(timeout);
    let entries: Vec<Entry> = POOL.lock().drain().map(|(_, e)| e).collect();
    for entry in entries {
        if let Some(mut slot) = entry.try_lock_for(budget.remaining()) {
            if let Some(session) = slot.take() {
                session.close(budget);
            }
        }
    }
}

/// Trusts an extra certificate authority (PEM) for Home Assistant's `wss://` connections.
pub(crate) fn add_root_certificate(pem: &[u8]) -> Result<()> {
    Ok(CORE.add_root_certificate(pem)?)
}
