//! `HomeAssistant`: an owned instance of the Home Assistant client — its connections'
//! core, its command rate limit, its pool of warm sessions, its counters, its token cache
//! and trust — with the per-process default the Lambda function and the free functions
//! use. Nothing else of the crate is process-wide.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use contract::Deadline;
use once_cell::sync::Lazy;
use parking_lot::Mutex;
use websocket::{ManagerConfig, RateLimiter, WebSocketCore};

use crate::config::HaConfig;
use crate::error::Result;
use crate::session::HaSession;
use crate::stats::HaStats;
use crate::subscriptions::Subscriptions;
use crate::token::TokenCache;

/// Commands admitted per second, across every session of an instance. Reading results and
/// events is not counted: only what is sent.
pub const COMMANDS_PER_SECOND: usize = 300;

/// A pool entry: the session of one URL and token (`None` until (re)connected) and the
/// subscriptions that outlive it.
pub(crate) type Entry = Arc<Mutex<Held>>;

/// What a pool entry holds.
#[derive(Debug, Default)]
pub(crate) struct Held {
    pub(crate) session: Option<HaSession>,
    pub(crate) subscriptions: Subscriptions,
    /// Whether a session was ever opened here: the next open is a reconnect.
    pub(crate) opened_before: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    url: String,
    token_hash: u64,
}

/// What sessions share with the instance that opened them (kept apart from the pool, which
/// holds the sessions: no cycle).
#[derive(Debug)]
pub(crate) struct Shared {
    limiter: Mutex<RateLimiter>,
    next_session: AtomicU64,
    pub(crate) auths: AtomicU64,
    pub(crate) reused: AtomicU64,
    pub(crate) reconnects: AtomicU64,
    pub(crate) liveness_checks: AtomicU64,
    pub(crate) dead_sessions: AtomicU64,
    pub(crate) resubscribed: AtomicU64,
    pub(crate) last_latency_us: AtomicU64,
    pub(crate) commands: AtomicU64,
    pub(crate) dropped: AtomicU64,
}

impl Shared {
    /// Counts one command against the limit, or refuses it.
    pub(crate) fn admit_command(&self) -> Result<()> {
        let mut limiter = self.limiter.lock();
        if limiter.try_acquire(Instant::now()) {
            Ok(())
        } else {
            Err(websocket::Error::RateLimited {
                max: limiter.max(),
                window: limiter.window(),
            }
            .into())
        }
    }

    /// The next session's name, `ha-<n>`.
    pub(crate) fn next_session_name(&self) -> String {
        format!("ha-{}", self.next_session.fetch_add(1, Ordering::Relaxed))
    }

    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// The Home Assistant client's own world: a core no JSON caller can name or exhaust (its
/// own rate accounting: one command is one operation, reading is not), warm sessions keyed
/// by URL and a keyed hash of the token, counters, the token cache.
///
/// [`HomeAssistant::global`] is the per-process instance behind [`crate::HaClient::new`]
/// and the free functions; build your own to keep sessions, limits and counters apart.
///
/// ```
/// use std::sync::Arc;
/// let mine = Arc::new(home_assistant::HomeAssistant::new());
/// assert_eq!(mine.stats().auth_count, 0);
/// ```
#[derive(Debug)]
pub struct HomeAssistant {
    core: WebSocketCore,
    shared: Arc<Shared>,
    hasher: std::collections::hash_map::RandomState,
    pool: Mutex<HashMap<Key, Entry>>,
    trusted: Mutex<HashSet<String>>,
    tokens: TokenCache,
}

static GLOBAL: Lazy<Arc<HomeAssistant>> = Lazy::new(|| Arc::new(HomeAssistant::from_env()));

impl Default for HomeAssistant {
    fn default() -> Self {
        HomeAssistant::new()
    }
}

impl HomeAssistant {
    /// An instance of its own, its connections opened with the default settings.
    pub fn new() -> HomeAssistant {
        HomeAssistant::on(WebSocketCore::new(
            ManagerConfig::default().without_rate_limit(),
        ))
    }

    /// An instance whose connections take the `WS_*`, `WS_CA_CERT` and proxy settings of
    /// the environment (what the per-process instance is built with).
    pub fn from_env() -> HomeAssistant {
        HomeAssistant::on(WebSocketCore::from_env(
            ManagerConfig::default().without_rate_limit(),
        ))
    }

    /// An instance over `core` (its rate limit is not used: commands are counted here).
    pub fn on(core: WebSocketCore) -> HomeAssistant {
        HomeAssistant {
            core,
            shared: Arc::new(Shared {
                limiter: Mutex::new(RateLimiter::new(
                    COMMANDS_PER_SECOND,
                    Duration::from_secs(1),
                )),
                next_session: AtomicU64::new(1),
                auths: AtomicU64::new(0),
                reused: AtomicU64::new(0),
                reconnects: AtomicU64::new(0),
                liveness_checks: AtomicU64::new(0),
                dead_sessions: AtomicU64::new(0),
                resubscribed: AtomicU64::new(0),
                last_latency_us: AtomicU64::new(u64::MAX),
                commands: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
            }),
            hasher: Default::default(),
            pool: Mutex::new(HashMap::new()),
            trusted: Mutex::new(HashSet::new()),
            tokens: TokenCache::default(),
        }
    }

    /// The per-process instance.
    ///
    /// ```
    /// let stats = home_assistant::HomeAssistant::global().stats();
    /// assert!(stats.auth_count >= stats.reconnects);
    /// ```
    pub fn global() -> &'static Arc<HomeAssistant> {
        &GLOBAL
    }

    pub(crate) fn core(&self) -> &WebSocketCore {
        &self.core
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    pub(crate) fn tokens(&self) -> &TokenCache {
        &self.tokens
    }

    /// The pool entry of `config`'s URL and token.
    pub(crate) fn entry(&self, config: &HaConfig) -> Entry {
        let key = Key {
            url: config.ws_url().to_owned(),
            token_hash: self.hasher.hash_one(config.token()),
        };
        Arc::clone(self.pool.lock().entry(key).or_default())
    }

    /// Replaces the limit on commands: `max` per `window` (default
    /// [`COMMANDS_PER_SECOND`] per second; `usize::MAX` turns it off, as benchmarks need).
    pub fn set_command_rate_limit(&self, max: usize, window: Duration) {
        *self.shared.limiter.lock() = RateLimiter::new(max, window);
    }

    /// Trusts an extra certificate authority (PEM) for this instance's `wss://` connections.
    pub fn add_root_certificate(&self, pem: &[u8]) -> Result<()> {
        Ok(self.core.add_root_certificate(pem)?)
    }

    /// Trusts the CA in the PEM file `path` (`HA_CA_CERT`), once per path.
    pub(crate) fn trust_file_once(
        &self,
        path: &str,
        trust: impl FnOnce() -> Result<()>,
    ) -> Result<()> {
        let mut trusted = self.trusted.lock();
        if trusted.contains(path) {
            return Ok(());
        }
        trust()?;
        trusted.insert(path.to_owned());
        Ok(())
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> HaStats {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        HaStats {
            auth_count: load(&self.shared.auths),
            reused_count: load(&self.shared.reused),
            reconnects: load(&self.shared.reconnects),
            liveness_checks: load(&self.shared.liveness_checks),
            dead_sessions: load(&self.shared.dead_sessions),
            resubscribed: load(&self.shared.resubscribed),
            last_latency_us: match load(&self.shared.last_latency_us) {
                u64::MAX => None,
                us => Some(us),
            },
            commands_sent: load(&self.shared.commands),
            events_dropped: load(&self.shared.dropped),
        }
    }

    /// Closes every pooled session, all of them within `timeout` (a session busy in another
    /// thread is left to it and closes when it is done).
    pub fn close_all_sessions(&self, timeout: Duration) {
        let deadline = Deadline::after(timeout);
        let entries: Vec<Entry> = self.pool.lock().drain().map(|(_, e)| e).collect();
        for entry in entries {
            if let Some(mut held) = entry.try_lock_for(deadline.left()) {
                if let Some(session) = held.session.take() {
                    session.close(&deadline);
                }
            }
        }
    }
}

/// Replaces the per-process instance's limit on commands (see
/// [`HomeAssistant::set_command_rate_limit`]).
///
/// ```
/// home_assistant::set_command_rate_limit(300, std::time::Duration::from_secs(1));
/// ```
pub fn set_command_rate_limit(max: usize, window: Duration) {
    HomeAssistant::global().set_command_rate_limit(max, window);
}

/// Trusts an extra certificate authority (PEM) for the per-process instance's `wss://`
/// connections (what `HA_CA_CERT` does from a file).
///
/// ```
/// assert!(home_assistant::add_root_certificate(b"not a pem").is_err());
/// ```
pub fn add_root_certificate(pem: &[u8]) -> Result<()> {
    HomeAssistant::global().add_root_certificate(pem)
}

/// A snapshot of the per-process instance's counters.
///
/// ```
/// let stats = home_assistant::stats();
/// assert!(stats.auth_count >= stats.reconnects);
/// ```
pub fn stats() -> HaStats {
    HomeAssistant::global().stats()
}

/// Closes every pooled session of the per-process instance within `timeout`.
///
/// ```
/// home_assistant::close_all_sessions(std::time::Duration::from_millis(200));
/// ```
pub fn close_all_sessions(timeout: Duration) {
    HomeAssistant::global().close_all_sessions(timeout);
}
