//! `WebSocketCore`: an owned manager of connections — registry, rate limit, statistics and
//! TLS trust — whose methods do the socket work.

use std::sync::Arc;
use std::time::{Duration, Instant};

use debug::{debug_line, redact_url, Timer};
use once_cell::sync::Lazy;
use parking_lot::Mutex;
use tungstenite::protocol::WebSocketConfig;

use contract::Deadline;

use crate::config::ManagerConfig;
use crate::connection::Connection;
use crate::error::{DeadlineExt, Error, Phase, Result};
use crate::message::{CloseFrame, Message};
use crate::options::ConnectOptions;
use crate::registry::{ConnectionHandle, Registry, Slot};
use crate::stats::Stats;
use crate::tls::Trust;
use crate::transport::{self, parse_url, Dial};
use crate::SCOPE;
use contract::RateLimiter;

#[derive(Debug)]
struct Books {
    config: ManagerConfig,
    limiter: RateLimiter,
    stats: Stats,
}

/// A connection manager: the registry of open connections, a sliding-window rate limit,
/// statistics and the TLS trust store, with the operations as methods.
///
/// Build your own with [`WebSocketCore::new`] (tests, tools, a client that must not share
/// limits); the framework's free functions use the per-process [`WebSocketCore::global`].
/// No lock is held while waiting on the network, so threads using different connections
/// never wait on each other.
///
/// ```no_run
/// use std::time::Duration;
/// use websocket::{ManagerConfig, Message, WebSocketCore};
///
/// let core = WebSocketCore::new(ManagerConfig::default().max_connections(4));
/// let reply = core.request("ws://127.0.0.1:8765", Message::text("ping"), Duration::from_secs(5))?;
/// let handle = core.connect("ws://127.0.0.1:8765", Duration::from_secs(5))?;
/// core.send(handle.as_str(), Message::text("hello"), None)?;
/// let next = core.receive(handle.as_str(), Duration::from_secs(5))?;
/// core.close(handle.as_str(), None, None)?;
/// # Ok::<(), websocket::Error>(())
/// ```
#[derive(Debug)]
pub struct WebSocketCore {
    books: Mutex<Books>,
    registry: Registry,
    trust: Trust,
}

/// A connection [`WebSocketCore::connect_with`] opened: its handle, and the subprotocol the
/// server chose (`None` when none was offered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The connection's handle.
    pub handle: ConnectionHandle,
    /// The subprotocol the server chose.
    pub subprotocol: Option<String>,
}

static GLOBAL: Lazy<Arc<WebSocketCore>> =
    Lazy::new(|| Arc::new(WebSocketCore::new(ManagerConfig::default())));

impl WebSocketCore {
    /// A manager of its own, with `config`'s limits.
    ///
    /// ```
    /// let core = websocket::WebSocketCore::new(websocket::ManagerConfig::default());
    /// assert_eq!(core.stats().max_rate_limit, 300);
    /// ```
    pub fn new(config: ManagerConfig) -> Self {
        WebSocketCore {
            books: Mutex::new(Books {
                limiter: RateLimiter::new(config.rate_limit_max, config.rate_limit_window),
                config,
                stats: Stats::default(),
            }),
            registry: Registry::default(),
            trust: Trust::default(),
        }
    }

    /// The per-process manager, built with the default limits on first use.
    ///
    /// ```
    /// let stats = websocket::WebSocketCore::global().stats();
    /// assert_eq!(stats.max_rate_limit, 300);
    /// ```
    pub fn global() -> &'static Arc<WebSocketCore> {
        &GLOBAL
    }

    /// Replaces the limits. Open connections stay open; the rate window starts afresh.
    ///
    /// ```
    /// use websocket::{ManagerConfig, WebSocketCore};
    /// let core = WebSocketCore::new(ManagerConfig::default());
    /// core.configure(ManagerConfig::default().max_connections(8));
    /// assert_eq!(core.config().max_connections, 8);
    /// ```
    pub fn configure(&self, config: ManagerConfig) {
        let mut books = self.books.lock();
        books.limiter = RateLimiter::new(config.rate_limit_max, config.rate_limit_window);
        books.config = config;
    }

    /// The current limits.
    pub fn config(&self) -> ManagerConfig {
        self.books.lock().config.clone()
    }

    /// Runs one rate-limited operation: admits it and counts its failure. The call's own
    /// timing and failure lines are the public face's (one per call); the core times the
    /// steps inside.
    fn admitted<T>(&self, operation: &'static str, body: impl FnOnce() -> Result<T>) -> Result<T> {
        {
            let mut books = self.books.lock();
            if !books.limiter.try_acquire(Instant::now()) {
                books.stats.rate_limited_count += 1;
                let error = Error::RateLimited {
                    max: books.limiter.max(),
                    window: books.config.rate_limit_window,
                };
                drop(books);
                debug_line!(SCOPE, "Rate limit refused operation={operation}");
                return Err(error);
            }
            books.stats.total_operations += 1;
        }
        let result = body();
        if result.is_err() {
            self.record(|s| s.errors_count += 1);
        }
        result
    }

    fn record(&self, update: impl FnOnce(&mut Stats)) {
        update(&mut self.books.lock().stats);
    }

    /// Opens a connection by `deadline` (not registered, not rate limited: the caller owns
    /// it and accounts for it).
    fn dial(&self, url: &str, deadline: &Deadline, options: &ConnectOptions) -> Result<Connection> {
        let parsed = parse_url(url)?;
        options.check()?;
        let mut secrets = transport::url_secrets(&parsed);
        // Header values are secrets (Authorization: Bearer …), also when a server reflects them.
        secrets.extend(
            options
                .headers
                .iter()
                .map(|(_, value)| debug::register_secret(value)),
        );
        let redacted = redact_url(url);
        debug_line!(
            SCOPE,
            "Connecting to WebSocket (url={redacted}, timeout={})",
            debug::seconds(deadline.budget())
        );
        let tls = if parsed.scheme() == "wss" {
            Some(self.trust.context()?)
        } else {
            None
        };
        let max = self.books.lock().config.max_message_size;
        let (ws, subprotocol) = transport::open(&Dial {
            url: &parsed,
            deadline,
            tls: tls.as_ref(),
            config: WebSocketConfig::default()
                .max_message_size(Some(max))
                .max_frame_size(Some(max)),
            options,
        })?;
        self.record(|s| s.connections_count += 1);
        Ok(Connection::new(ws, redacted, secrets, subprotocol))
    }

    /// Checks a message against the size limit before it is sent.
    fn check_size(&self, message: &Message) -> Result<()> {
        let limit = self.books.lock().config.max_message_size;
        if message.len() > limit {
            Err(Error::MessageTooLarge {
                size: Some(message.len()),
                limit,
                phase: Phase::Send,
            })
        } else {
            Ok(())
        }
    }

    /// Opens a connection that the caller owns (it takes no registry place). One
    /// rate-limited operation; counted in `connections_count`.
    ///
    /// ```no_run
    /// let core = websocket::WebSocketCore::new(websocket::ManagerConfig::default());
    /// let mut conn = core.open("ws://127.0.0.1:8765", std::time::Duration::from_secs(5))?;
    /// # Ok::<(), websocket::Error>(())
    /// ```
    pub fn open(&self, url: &str, timeout: Duration) -> Result<Connection> {
        self.open_with(url, timeout, &ConnectOptions::default())
    }

    /// [`WebSocketCore::open`] with headers and subprotocols for the handshake.
    pub fn open_with(
        &self,
        url: &str,
        timeout: Duration,
        options: &ConnectOptions,
    ) -> Result<Connection> {
        self.admitted("connect", || {
            self.dial(url, &Deadline::after(timeout), options)
        })
    }

    /// Opens a connection and registers it; the handle names it in later calls.
    ///
    /// ```no_run
    /// let core = websocket::WebSocketCore::global();
    /// let handle = core.connect("ws://127.0.0.1:8765", std::time::Duration::from_secs(5))?;
    /// core.close(handle.as_str(), None, None)?;
    /// # Ok::<(), websocket::Error>(())
    /// ```
    pub fn connect(&self, url: &str, timeout: Duration) -> Result<ConnectionHandle> {
        self.connect_with(url, timeout, &ConnectOptions::default())
            .map(|opened| opened.handle)
    }

    /// [`WebSocketCore::connect`] with headers and subprotocols for the handshake; answers
    /// the handle and the subprotocol the server chose.
    ///
    /// ```no_run
    /// use websocket::{ConnectOptions, WebSocketCore};
    /// let options = ConnectOptions::default().header("Authorization", "Bearer …").subprotocol("realtime");
    /// let opened = WebSocketCore::global().connect_with("wss://example.com/v1", std::time::Duration::from_secs(5), &options)?;
    /// assert_eq!(opened.subprotocol.as_deref(), Some("realtime"));
    /// # Ok::<(), websocket::Error>(())
    /// ```
    pub fn connect_with(
        &self,
        url: &str,
        timeout: Duration,
        options: &ConnectOptions,
    ) -> Result<Opened> {
        self.admitted("connect", || {
            let deadline = Deadline::after(timeout);
            let max = self.books.lock().config.max_connections;
            let reservation = self.registry.reserve(max)?;
            let connection = self.dial(url, &deadline, options)?;
            let subprotocol = connection.subprotocol().map(str::to_owned);
            let handle = reservation.fill(connection, timeout);
            debug_line!(SCOPE, "Connected (connection={handle})");
            Ok(Opened {
                handle,
                subprotocol,
            })
        })
    }

    /// Runs `body` on the registered connection `handle`, waiting at most until `deadline`
    /// for another thread using it. A connection an error broke leaves the registry.
    fn with_connection<T>(
        &self,
        handle: &str,
        slot: Slot,
        deadline: &Deadline,
        body: impl FnOnce(&mut Connection) -> Result<T>,
    ) -> Result<T> {
        let mut guard = slot
            .connection
            .try_lock_until(deadline.at())
            .ok_or_else(|| deadline.timed_out(Phase::WaitForConnection))?;
        let connection = guard
            .as_mut()
            .ok_or_else(|| crate::registry::no_connection(handle))?;
        // Every error of a connection that breaks it sets `is_broken` (Connection::note).
        let result = body(connection);
        if connection.is_broken() {
            // Dropped, never read again.
            *guard = None;
            drop(guard);
            self.registry.remove(handle);
        }
        result
    }

    /// Sends one message on a registered connection, bounded by `timeout`, or when `None`
    /// by the timeout the connection was opened with.
    ///
    /// ```no_run
    /// use websocket::{Message, WebSocketCore};
    /// WebSocketCore::global().send("ws-1", Message::text("{\"type\":\"ping\"}"), None)?;
    /// # Ok::<(), websocket::Error>(())
    /// ```
    pub fn send(&self, handle: &str, message: Message, timeout: Option<Duration>) -> Result<()> {
        self.admitted("send", || {
            self.check_size(&message)?;
            let slot = self.registry.lookup(handle)?;
            let timeout = timeout.unwrap_or(slot.timeout);
            debug_line!(
                SCOPE,
                "Sending {} message (connection={handle}, bytes={})",
                message.kind(),
                message.len()
            );
            let deadline = Deadline::after(timeout);
            self.with_connection(handle, slot, &deadline, |conn| {
                conn.send(message, &deadline)
            })?;
            self.record(|s| s.messages_sent_count += 1);
            Ok(())
        })
    }

    /// Waits up to `timeout` for the next message on a registered connection.
    ///
    /// A message that was only partly read when the timeout fired is kept and completed by
    /// the next receive.
    ///
    /// ```no_run
    /// let m = websocket::WebSocketCore::global().receive("ws-1", std::time::Duration::from_secs(5))?;
    /// # Ok::<(), websocket::Error>(())
    /// ```
    pub fn receive(&self, handle: &str, timeout: Duration) -> Result<Message> {
        self.admitted("receive", || {
            let deadline = Deadline::after(timeout);
            let slot = self.registry.lookup(handle)?;
            debug_line!(
                SCOPE,
                "Waiting for message (connection={handle}, timeout={})",
                debug::seconds(timeout)
            );
            let message =
                self.with_connection(handle, slot, &deadline, |conn| conn.receive(&deadline))?;
            self.record(|s| s.messages_received_count += 1);
            debug_line!(
                SCOPE,
                "Received {} message (connection={handle}, bytes={})",
                message.kind(),
                message.len()
            );
            Ok(message)
        })
    }

    /// Closes a registered connection and removes it from the registry, sending `frame`
    /// (a code and reason) or a plain close frame. The closing handshake is bounded by the
    /// close timeout (1 s by default), or by `timeout` when shorter.
    ///
    /// ```no_run
    /// websocket::WebSocketCore::global().close("ws-1", None, None)?;
    /// # Ok::<(), websocket::Error>(())
    /// ```
    pub fn close(
        &self,
        handle: &str,
        frame: Option<CloseFrame>,
        timeout: Option<Duration>,
    ) -> Result<()> {
        self.admitted("close", || {
            let mut budget = self.books.lock().config.close_timeout;
            if let Some(t) = timeout {
                budget = budget.min(t);
            }
            let slot = self
                .registry
                .remove(handle)
                .ok_or_else(|| crate::registry::no_connection(handle))?;
            let deadline = Deadline::after(budget);
            // A connection busy in another thread closes when that thread lets go of it.
            if let Some(mut guard) = slot.connection.try_lock_until(deadline.at()) {
                if let Some(conn) = guard.take() {
                    debug_line!(
                        SCOPE,
                        "Closing connection (connection={handle}, url={})",
                        conn.url()
                    );
                    conn.close(deadline.left(), frame);
                }
            }
            Ok(())
        })
    }

    /// Connect, send one message, receive one reply, close — all within `timeout`, with a
    /// timing line for each step. The connection is closed whether or not the exchange
    /// succeeded, and is never registered.
    ///
    /// ```no_run
    /// use websocket::{Message, WebSocketCore};
    /// let reply = WebSocketCore::global().request(
    ///     "ws://127.0.0.1:8765",
    ///     Message::text("{\"type\":\"ping\"}"),
    ///     std::time::Duration::from_secs(5),
    /// )?;
    /// # Ok::<(), websocket::Error>(())
    /// ```
    pub fn request(&self, url: &str, message: Message, timeout: Duration) -> Result<Message> {
        self.request_with(url, message, timeout, &ConnectOptions::default())
    }

    /// [`WebSocketCore::request`] with headers and subprotocols for the handshake.
    pub fn request_with(
        &self,
        url: &str,
        message: Message,
        timeout: Duration,
        options: &ConnectOptions,
    ) -> Result<Message> {
        self.admitted("request", || {
            self.check_size(&message)?;
            let deadline = Deadline::after(timeout);
            let timer = Timer::start(&SCOPE, "connect");
            let mut conn = self.dial(url, &deadline, options)?;
            timer.finish();
            debug_line!(
                SCOPE,
                "Sending {} message (url={}, bytes={})",
                message.kind(),
                conn.url(),
                message.len()
            );
            let timer = Timer::start(&SCOPE, "send");
            let sent = conn.send(message, &deadline);
            timer.finish();
            let exchange = sent.and_then(|()| {
                self.record(|s| s.messages_sent_count += 1);
                let timer = Timer::start(&SCOPE, "receive");
                let reply = conn.receive(&deadline);
                timer.finish();
                reply
            });
            let close_budget = match &exchange {
                // The budget is spent: drop the socket without a closing handshake.
                Err(Error::Timeout { .. }) => Duration::ZERO,
                _ => self.books.lock().config.close_timeout.min(deadline.left()),
            };
            let timer = Timer::start(&SCOPE, "close");
            conn.close(close_budget, None);
            timer.finish();
            let reply = exchange?;
            self.record(|s| s.messages_received_count += 1);
            debug_line!(
                SCOPE,
                "Received {} message (bytes={})",
                reply.kind(),
                reply.len()
            );
            Ok(reply)
        })
    }

    /// A snapshot of the counters (not rate limited, not counted).
    pub fn stats(&self) -> Stats {
        let mut books = self.books.lock();
        let mut stats = books.stats;
        stats.current_rate_limit_size = books.limiter.current_size(Instant::now());
        stats.max_rate_limit = books.limiter.max();
        stats
    }

    /// Zeroes the counters, empties the rate window and closes every open connection, all
    /// closing handshakes together bounded by the close timeout or `timeout` when shorter.
    /// Handles are never reused, so an old handle cannot name a new connection.
    ///
    /// ```
    /// let core = websocket::WebSocketCore::new(websocket::ManagerConfig::default());
    /// core.reset(None);
    /// assert_eq!(core.stats().total_operations, 0);
    /// ```
    pub fn reset(&self, timeout: Option<Duration>) {
        debug_line!(SCOPE, "Resetting manager");
        let mut budget = {
            let mut books = self.books.lock();
            books.stats = Stats::default();
            books.limiter.clear();
            books.config.close_timeout
        };
        if let Some(t) = timeout {
            budget = budget.min(t);
        }
        let deadline = Deadline::after(budget);
        for slot in self.registry.drain() {
            // A connection busy in another thread is dropped when that thread lets go of it.
            if let Some(mut guard) = slot.connection.try_lock_until(deadline.at()) {
                if let Some(conn) = guard.take() {
                    conn.close(deadline.left(), None);
                }
            }
        }
    }

    /// Handles of the open connections, in the order they were opened.
    pub fn open_connections(&self) -> Vec<ConnectionHandle> {
        self.registry.handles()
    }

    /// Trusts an extra certificate authority (PEM) for `wss://` connections, on top of the
    /// system's roots. Use it for a self-hosted server's own CA.
    ///
    /// ```
    /// let core = websocket::WebSocketCore::new(websocket::ManagerConfig::default());
    /// assert!(core.add_root_certificate(b"not a pem").is_err());
    /// ```
    pub fn add_root_certificate(&self, pem: &[u8]) -> Result<()> {
        self.trust.add_root(pem)
    }
}
