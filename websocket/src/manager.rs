//! `WebSocketCore`: the one per-process manager of open connections, rate limit and stats.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use once_cell::sync::Lazy;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::config::ManagerConfig;
use crate::connection::Connection;
use crate::error::{Error, ErrorCode, Result};
use crate::rate_limit::RateLimiter;
use crate::stats::Stats;

/// The name of an open connection in the manager's registry, such as `"ws-1"`.
///
/// It is plain text, so it crosses a JSON boundary and stays valid between invocations of
/// a warm Lambda container for as long as the connection is open.
///
/// ```
/// let handle = websocket::ConnectionHandle::from("ws-1");
/// assert_eq!(handle.as_str(), "ws-1");
/// assert_eq!(serde_json::to_string(&handle).unwrap(), "\"ws-1\"");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConnectionHandle(String);

impl ConnectionHandle {
    /// The handle's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for ConnectionHandle {
    fn from(s: &str) -> Self {
        ConnectionHandle(s.to_owned())
    }
}

impl From<String> for ConnectionHandle {
    fn from(s: String) -> Self {
        ConnectionHandle(s)
    }
}

impl std::fmt::Display for ConnectionHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A registry entry: the connection (`None` once closed by another thread) and the
/// timeout it was opened with, which its sends use.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) timeout: Duration,
    pub(crate) connection: Mutex<Option<Connection>>,
}

pub(crate) type Slot = Arc<Entry>;

#[derive(Debug)]
struct State {
    config: ManagerConfig,
    limiter: RateLimiter,
    stats: Stats,
    registry: HashMap<String, Slot>,
    reserved: usize,
    next_id: u64,
}

#[derive(Default)]
struct TlsState {
    roots: Vec<native_tls::Certificate>,
    connector: Option<native_tls::TlsConnector>,
}

impl std::fmt::Debug for TlsState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsState")
            .field("extra_roots", &self.roots.len())
            .field("connector_cached", &self.connector.is_some())
            .finish()
    }
}

/// The connection manager: registry of open connections, rate limiter and statistics.
///
/// One exists per process ([`WebSocketCore::global`]); its lock is never held while
/// waiting on the network, so threads using different connections never wait on each other.
///
/// ```
/// let core = websocket::WebSocketCore::global();
/// let stats = core.stats();
/// assert_eq!(stats.max_rate_limit, 300);
/// ```
#[derive(Debug)]
pub struct WebSocketCore {
    state: Mutex<State>,
    tls: Mutex<TlsState>,
}

static GLOBAL: Lazy<Arc<WebSocketCore>> =
    Lazy::new(|| Arc::new(WebSocketCore::new(ManagerConfig::default())));

impl WebSocketCore {
    /// A manager with its own registry (the framework uses [`WebSocketCore::global`]).
    pub fn new(config: ManagerConfig) -> Self {
        WebSocketCore {
            state: Mutex::new(State {
                limiter: RateLimiter::new(config.rate_limit_max, config.rate_limit_window),
                config,
                stats: Stats::default(),
                registry: HashMap::new(),
                reserved: 0,
                next_id: 1,
            }),
            tls: Mutex::new(TlsState::default()),
        }
    }

    /// The process-wide manager.
    pub fn global() -> &'static Arc<WebSocketCore> {
        &GLOBAL
    }

    /// Replaces the limits. Open connections stay open; the rate window starts afresh.
    ///
    /// ```no_run
    /// use websocket::{ManagerConfig, WebSocketCore};
    /// WebSocketCore::global().configure(ManagerConfig::default().max_connections(8));
    /// ```
    pub fn configure(&self, config: ManagerConfig) {
        let mut state = self.state.lock();
        state.limiter = RateLimiter::new(config.rate_limit_max, config.rate_limit_window);
        state.config = config;
    }

    /// The current limits.
    pub fn config(&self) -> ManagerConfig {
        self.state.lock().config.clone()
    }

    /// Counts one operation against the rate limit, or refuses it.
    pub(crate) fn admit(&self) -> Result<()> {
        let mut state = self.state.lock();
        if state.limiter.try_acquire(Instant::now()) {
            state.stats.total_operations += 1;
            Ok(())
        } else {
            state.stats.rate_limited_count += 1;
            let max = state.limiter.max();
            let window = state.config.rate_limit_window;
            Err(Error::new(
                ErrorCode::RateLimitExceeded,
                format!(
                    "Rate limit exceeded: at most {max} operations per {} ms.",
                    window.as_millis()
                ),
            )
            .with_detail("max_rate_limit", max)
            .with_detail("window_ms", window.as_millis() as u64))
        }
    }

    /// Applies `update` to the counters.
    pub(crate) fn record(&self, update: impl FnOnce(&mut Stats)) {
        update(&mut self.state.lock().stats);
    }

    /// Holds a registry place for a connection about to be opened.
    pub(crate) fn reserve(&self) -> Result<Reservation<'_>> {
        let mut state = self.state.lock();
        let max = state.config.max_connections;
        if state.registry.len() + state.reserved >= max {
            return Err(Error::new(
                ErrorCode::RegistryFull,
                format!("The connection registry is full ({max} open); close a connection first."),
            )
            .with_detail("max_connections", max));
        }
        state.reserved += 1;
        Ok(Reservation {
            core: self,
            filled: false,
        })
    }

    pub(crate) fn lookup(&self, handle: &str) -> Result<Slot> {
        self.state
            .lock()
            .registry
            .get(handle)
            .cloned()
            .ok_or_else(|| no_connection(handle))
    }

    pub(crate) fn remove(&self, handle: &str) -> Option<Slot> {
        self.state.lock().registry.remove(handle)
    }

    /// Handles of the open connections, sorted.
    pub fn open_connections(&self) -> Vec<ConnectionHandle> {
        let mut handles: Vec<_> = self
            .state
            .lock()
            .registry
            .keys()
            .map(|k| ConnectionHandle(k.clone()))
            .collect();
        handles.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| a.0.cmp(&b.0)));
        handles
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        let mut state = self.state.lock();
        let mut stats = state.stats;
        stats.current_rate_limit_size = state.limiter.current_size(Instant::now());
        stats.max_rate_limit = state.limiter.max();
        stats
    }

    /// Zeroes the counters, empties the rate window and closes every open connection
    /// (all closing handshakes together bounded by the close timeout). Handles are never
    /// reused, so an old handle cannot name a new connection.
    pub fn reset(&self) {
        let (slots, close_timeout) = {
            let mut state = self.state.lock();
            state.stats = Stats::default();
            state.limiter.clear();
            let slots: Vec<Slot> = state.registry.drain().map(|(_, s)| s).collect();
            (slots, state.config.close_timeout)
        };
        let deadline = Instant::now() + close_timeout;
        for slot in slots {
            let left = deadline.saturating_duration_since(Instant::now());
            // A connection busy in another thread is dropped when that thread lets go of it.
            if let Some(mut guard) = slot.connection.try_lock_for(left) {
                if let Some(conn) = guard.take() {
                    conn.close(deadline.saturating_duration_since(Instant::now()));
                }
            }
        }
    }

    /// Trusts an extra certificate authority (PEM) for `wss://` connections, on top of the
    /// system's roots. Use it for a self-hosted server's own CA.
    ///
    /// ```
    /// let err = websocket::WebSocketCore::global().add_root_certificate(b"not a pem").unwrap_err();
    /// assert_eq!(err.code(), websocket::ErrorCode::InvalidParameter);
    /// ```
    pub fn add_root_certificate(&self, pem: &[u8]) -> Result<()> {
        let cert = native_tls::Certificate::from_pem(pem).map_err(|e| {
            Error::invalid_parameter("certificate", &format!("not a PEM certificate ({e})"))
        })?;
        let mut tls = self.tls.lock();
        tls.roots.push(cert);
        tls.connector = None;
        Ok(())
    }

    /// The TLS connector, built once (loading the system roots is costly) and cached.
    pub(crate) fn tls_connector(&self) -> Result<native_tls::TlsConnector> {
        let mut tls = self.tls.lock();
        if let Some(connector) = &tls.connector {
            return Ok(connector.clone());
        }
        let mut builder = native_tls::TlsConnector::builder();
        for root in &tls.roots {
            builder.add_root_certificate(root.clone());
        }
        let connector = builder.build().map_err(|e| {
            Error::new(
                ErrorCode::WebsocketTlsFailed,
                format!("Could not set up TLS: {e}."),
            )
        })?;
        tls.connector = Some(connector.clone());
        Ok(connector)
    }
}

/// The error for a handle that names no open connection.
pub(crate) fn no_connection(handle: &str) -> Error {
    Error::new(
        ErrorCode::WebsocketNoConnection,
        format!("No open connection '{handle}'."),
    )
    .with_detail("connection", handle)
}

/// A registry place held while a connection is being opened; released if never filled.
#[derive(Debug)]
pub(crate) struct Reservation<'a> {
    core: &'a WebSocketCore,
    filled: bool,
}

impl Reservation<'_> {
    /// Registers the opened connection and returns its handle.
    pub(crate) fn fill(mut self, connection: Connection, timeout: Duration) -> ConnectionHandle {
        let mut state = self.core.state.lock();
        state.reserved -= 1;
        self.filled = true;
        let id = format!("ws-{}", state.next_id);
        state.next_id += 1;
        let entry = Entry {
            timeout,
            connection: Mutex::new(Some(connection)),
        };
        state.registry.insert(id.clone(), Arc::new(entry));
        ConnectionHandle(id)
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if !self.filled {
            self.core.state.lock().reserved -= 1;
        }
    }
}
