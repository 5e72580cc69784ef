//! `WebSocketCore`: an owned manager of connections — registry, rate limit, statistics and
//! TLS trust — whose methods do the socket work.

use std::sync::Arc;
use std::time::{Duration, Instant};

use debug::{debug_line, redact_url, Timer};
use once_cell::sync::Lazy;
use parking_lot::Mutex;
use tungstenite::protocol::WebSocketConfig;

use contract::Deadline;

use crate::backoff::Backoff;
use crate::config::ManagerConfig;
use crate::connection::{Connection, ConnectionInfo, Origin, Settings};
use crate::connection_config::{ConfigProblem, ConnectionConfig};
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
    connections: ConnectionConfig,
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
    /// A malformed setting of the environment: every operation fails with it.
    problem: Option<ConfigProblem>,
}

/// A connection [`WebSocketCore::connect_with`] opened: its handle, and the subprotocol the
/// server chose (`None` when none was offered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The connection's handle.
    pub handle: ConnectionHandle,
    /// The subprotocol the server chose.
    pub subprotocol: Option<String>,
    /// Whether the server's certificate went unverified (`WS_TLS_INSECURE`).
    pub tls_insecure: bool,
}

static GLOBAL: Lazy<Arc<WebSocketCore>> =
    Lazy::new(|| Arc::new(WebSocketCore::from_env(ManagerConfig::default())));

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
                connections: ConnectionConfig::default(),
                stats: Stats::default(),
            }),
            registry: Registry::default(),
            trust: Trust::default(),
            problem: None,
        }
    }

    /// The same manager, its connections opened with `connections` (default
    /// [`ConnectionConfig::default`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// use websocket::{ConnectionConfig, ManagerConfig, WebSocketCore};
    /// let core = WebSocketCore::new(ManagerConfig::default())
    ///     .with_connections(ConnectionConfig::default().close_timeout(Duration::from_millis(300)));
    /// assert_eq!(core.connection_config().close_timeout, Duration::from_millis(300));
    /// ```
    pub fn with_connections(self, connections: ConnectionConfig) -> Self {
        self.books.lock().connections = connections;
        self
    }

    /// A manager whose connection settings come from the process's environment: the
    /// `WS_*` variables, `WS_CA_CERT`, the proxy variables. What the per-process core is
    /// built with; a malformed value makes every operation fail with `CONFIG_INVALID`
    /// naming the variable.
    pub fn from_env(config: ManagerConfig) -> Self {
        WebSocketCore::from_lookup(config, |name| std::env::var(name).ok())
    }

    /// [`WebSocketCore::from_env`] with `lookup` standing in for the environment — what
    /// tests use instead of changing the process's variables.
    ///
    /// ```
    /// use websocket::{ManagerConfig, WebSocketCore};
    /// let env = |name: &str| (name == "WS_OPEN_TIMEOUT").then(|| "later".to_owned());
    /// let core = WebSocketCore::from_lookup(ManagerConfig::default(), env);
    /// let err = core.check_config().unwrap_err();
    /// assert!(err.to_string().contains("WS_OPEN_TIMEOUT"));
    /// ```
    pub fn from_lookup(config: ManagerConfig, lookup: impl Fn(&str) -> Option<String>) -> Self {
        let mut core = WebSocketCore::new(config);
        match ConnectionConfig::from_lookup(&lookup) {
            Ok(connections) => core.books.get_mut().connections = connections,
            Err(problem) => core.problem = Some(problem),
        }
        if core.problem.is_none() {
            if let Some(path) = lookup("WS_CA_CERT").filter(|p| !p.trim().is_empty()) {
                core.problem = core.trust_file(path.trim()).err();
            }
        }
        core
    }

    /// Trusts the certificate authority in the PEM file `path` (`WS_CA_CERT`).
    fn trust_file(&self, path: &str) -> std::result::Result<(), ConfigProblem> {
        let unusable = |what: String| ConfigProblem {
            variable: "WS_CA_CERT",
            problem: what.into(),
        };
        let pem = std::fs::read(path)
            .map_err(|e| unusable(format!("WS_CA_CERT names a file that cannot be read ({e})")))?;
        self.trust
            .add_root(&pem)
            .map_err(|_| unusable("WS_CA_CERT does not hold a PEM certificate".into()))
    }

    /// `Ok` when the configuration is usable; else the `CONFIG_INVALID` error every
    /// operation answers.
    pub fn check_config(&self) -> Result<()> {
        match &self.problem {
            None => Ok(()),
            Some(problem) => Err(Error::ConfigInvalid(Box::new(problem.clone()))),
        }
    }

    /// Whether `wss://` certificates go unverified (`WS_TLS_INSECURE`): a setting no call
    /// can override, read without copying the settings.
    pub fn tls_insecure(&self) -> bool {
        self.books.lock().connections.tls_insecure
    }

    /// The settings connections are opened with (before a call's own options).
    pub fn connection_config(&self) -> ConnectionConfig {
        self.books.lock().connections.clone()
    }

    /// Replaces the settings connections are opened with; open connections keep theirs.
    /// Settings read from the environment are the starting point: change them with
    /// `core.set_connection_config(core.connection_config().open_timeout(…))`, which keeps
    /// the rest (precedence: per call > set in code > environment > default).
    pub fn set_connection_config(&self, connections: ConnectionConfig) {
        self.books.lock().connections = connections;
    }

    /// The per-process manager, built on first use with the default limits and the
    /// connection settings of the environment ([`WebSocketCore::from_env`]).
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
        self.check_config()?;
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

    /// The settings of one call's connection: the core's with the call's options on top,
    /// checked once, merged (every option given lands in the merged settings, so their
    /// check covers the call's options too).
    fn settings(&self, options: &ConnectOptions) -> Result<ConnectionConfig> {
        let settings = self.books.lock().connections.with(options);
        settings.check()?;
        Ok(settings)
    }

    /// Opens a connection by `deadline`, its opening bounded by the open timeout too (not
    /// registered, not rate limited: the caller owns it and accounts for it).
    fn dial(
        &self,
        url: &str,
        deadline: &Deadline,
        settings: &ConnectionConfig,
    ) -> Result<Connection> {
        let parsed = parse_url(url)?;
        let mut secrets = transport::url_secrets(&parsed);
        // Header values are secrets (Authorization: Bearer …), also when a server reflects them.
        secrets.extend(
            settings
                .headers
                .iter()
                .map(|(_, value)| debug::register_secret(value)),
        );
        let redacted = redact_url(url);
        let opening = deadline.cut_to(settings.open_timeout);
        let proxy = settings.proxy.for_url(&parsed);
        debug_line!(
            SCOPE,
            "Connecting to WebSocket (url={redacted}, timeout={}{}{})",
            debug::seconds(deadline.budget()),
            if settings.open_timeout < deadline.budget() {
                format!(", open_timeout={}", debug::seconds(settings.open_timeout))
            } else {
                String::new()
            },
            match proxy {
                Some(p) => format!(", proxy={}", p.address()),
                None => String::new(),
            }
        );
        let tls = if parsed.scheme() == "wss" {
            if settings.tls_insecure {
                debug::warn_line(
                    &SCOPE,
                    format_args!(
                        "TLS certificate verification is OFF for {redacted} (WS_TLS_INSECURE=true): anyone on the path can read and change this connection"
                    ),
                );
            }
            Some(self.trust.context()?)
        } else {
            None
        };
        let (ws, subprotocol) = transport::open(&Dial {
            url: &parsed,
            deadline: &opening,
            tls: tls.as_ref(),
            verify: !settings.tls_insecure,
            config: WebSocketConfig::default()
                .max_message_size(Some(settings.max_message_size))
                .max_frame_size(Some(settings.frame_limit())),
            headers: &settings.headers,
            subprotocols: &settings.subprotocols,
            proxy,
        })?;
        self.record(|s| s.connections_count += 1);
        let kept = Settings::of(settings, tls.is_some());
        Ok(Connection::new(ws, redacted, secrets, subprotocol, kept))
    }

    /// Checks a message against a size limit before it is sent.
    fn check_size(message: &Message, limit: usize) -> Result<()> {
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
            let settings = self.settings(options)?;
            self.dial(url, &Deadline::after(timeout), &settings)
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
            let settings = self.settings(options)?;
            let max = self.books.lock().config.max_connections;
            let reservation = self.registry.reserve(max)?;
            let origin = Arc::new(Origin {
                url: url.to_owned(),
                settings: settings.clone(),
            });
            let connection = self.dial(url, &deadline, &settings)?.with_origin(origin);
            let subprotocol = connection.subprotocol().map(str::to_owned);
            let tls_insecure = connection.tls_insecure();
            let handle = reservation.fill(connection, timeout);
            debug_line!(SCOPE, "Connected (connection={handle})");
            Ok(Opened {
                handle,
                subprotocol,
                tls_insecure,
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
        let needs_check = guard
            .as_ref()
            .ok_or_else(|| crate::registry::no_connection(handle))?
            .needs_check();
        if needs_check {
            if let Err(e) = self.keep_alive(handle, &mut guard, deadline) {
                // Dead, and not opened again: it leaves the registry.
                *guard = None;
                drop(guard);
                self.registry.remove(handle);
                return Err(e);
            }
        }
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

    /// The liveness check of a held connection after a pause, bounded by the smaller of its
    /// ping timeout and half the time the operation has left; a dead one is opened again
    /// under the same handle when its policy allows, within the operation's deadline.
    fn keep_alive(
        &self,
        handle: &str,
        slot: &mut Option<Connection>,
        deadline: &Deadline,
    ) -> Result<()> {
        let Some(connection) = slot.as_mut() else {
            return Err(crate::registry::no_connection(handle));
        };
        let bound = connection.ping_timeout().min(deadline.left() / 2);
        let check = deadline.cut_to(bound);
        debug_line!(
            SCOPE,
            "Liveness check (connection={handle}, idle={}, timeout={})",
            debug::seconds(connection.idle()),
            debug::seconds(bound)
        );
        let timer = Timer::start(&SCOPE, "liveness_check");
        let checked = connection.check_alive(&check);
        timer.finish();
        self.record(|s| s.liveness_checks += 1);
        let dead = match checked {
            Ok(Some(rtt)) => {
                debug_line!(
                    SCOPE,
                    "Alive (connection={handle}, latency_ms={:.3})",
                    rtt.as_secs_f64() * 1000.0
                );
                self.record(|s| s.last_latency_us = Some(rtt.as_micros() as u64));
                return Ok(());
            }
            Ok(None) => {
                debug_line!(SCOPE, "Alive (connection={handle}): data arrived first");
                return Ok(());
            }
            Err(e) => e,
        };
        self.record(|s| s.dead_connections += 1);
        debug_line!(
            SCOPE,
            "Connection is dead (connection={handle}): {}",
            debug::redact(&dead.to_string())
        );
        let Some(old) = slot.take() else {
            return Err(dead);
        };
        let (Some(origin), true) = (old.origin().cloned(), old.reconnect_policy().enabled) else {
            return Err(dead);
        };
        // The dead socket is dropped without a closing handshake once replaced.
        let fresh = self.reopen(handle, &origin, deadline, dead)?;
        *slot = Some(fresh.succeeding(&old));
        drop(old);
        self.record(|s| s.reconnects_count += 1);
        Ok(())
    }

    /// Opens `origin` again by `deadline`: the first attempt at once, the next after
    /// exponential, jittered waits ([`Backoff`]), each attempt a debug line. Answers the last
    /// attempt's error (or `dead`, when no attempt fitted) when none succeeds.
    fn reopen(
        &self,
        handle: &str,
        origin: &Origin,
        deadline: &Deadline,
        dead: Error,
    ) -> Result<Connection> {
        let mut backoff = Backoff::new(origin.settings.reconnect);
        let mut last = dead;
        // Bounded: the backoff allows a bounded number of attempts, none past the deadline.
        while let Some(wait) = backoff.next_wait(Instant::now(), deadline.at()) {
            if !wait.is_zero() {
                std::thread::sleep(wait);
            }
            debug_line!(
                SCOPE,
                "Reconnecting (connection={handle}, attempt={}, waited={})",
                backoff.attempts(),
                debug::seconds(wait)
            );
            match self.dial(&origin.url, deadline, &origin.settings) {
                Ok(connection) => {
                    debug_line!(SCOPE, "Reconnected (connection={handle})");
                    return Ok(connection);
                }
                Err(e) => {
                    debug_line!(
                        SCOPE,
                        "Reconnect attempt failed (connection={handle}): {}",
                        debug::redact(&e.to_string())
                    );
                    last = e;
                }
            }
        }
        Err(last)
    }

    /// The state of a registered connection: open or broken, age, idle time, latency,
    /// reconnects (no liveness check is run).
    ///
    /// ```no_run
    /// let info = websocket::WebSocketCore::global().info("ws-1", std::time::Duration::from_secs(1))?;
    /// println!("{} s idle", info.idle_seconds);
    /// # Ok::<(), websocket::Error>(())
    /// ```
    pub fn info(&self, handle: &str, timeout: Duration) -> Result<ConnectionInfo> {
        self.admitted("info", || {
            let deadline = Deadline::after(timeout);
            let slot = self.registry.lookup(handle)?;
            let guard = slot
                .connection
                .try_lock_until(deadline.at())
                .ok_or_else(|| deadline.timed_out(Phase::WaitForConnection))?;
            guard
                .as_ref()
                .map(Connection::info)
                .ok_or_else(|| crate::registry::no_connection(handle))
        })
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
                Self::check_size(&message, conn.max_message_size())?;
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
    /// connection's close timeout (1 s by default), or by `timeout` when shorter; a
    /// connection busy in another thread is waited for as long.
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
            let budget = timeout.unwrap_or_else(|| self.books.lock().connections.close_timeout);
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
                    let left = match timeout {
                        Some(_) => deadline.left().min(conn.close_timeout()),
                        None => conn.close_timeout(),
                    };
                    conn.close(left, frame);
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
            let settings = self.settings(options)?;
            Self::check_size(&message, settings.max_message_size)?;
            let deadline = Deadline::after(timeout);
            let timer = Timer::start(&SCOPE, "connect");
            let mut conn = self.dial(url, &deadline, &settings)?;
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
                _ => settings.close_timeout.min(deadline.left()),
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
            books.connections.close_timeout
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
