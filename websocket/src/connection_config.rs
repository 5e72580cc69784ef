//! The settings a core gives the connections it opens: timeouts, keepalive, sizes,
//! reconnect policy, handshake headers, trust and proxies — set in code, or read from the
//! `WS_*` environment by the per-process core.

use std::fmt;
use std::time::Duration;

use crate::config::DEFAULT_MAX_MESSAGE_SIZE;
use crate::error::{Error, Result};
use crate::options::{check_headers, check_subprotocols, invalid, ConnectOptions};
use crate::proxy::Proxies;

/// The largest `max_message_size` / `max_frame_size` accepted: 256 MiB.
pub const MAX_SIZE_LIMIT: usize = 256 << 20;

/// The longest timeout or interval accepted: Lambda's own maximum run time, 900 s.
pub const MAX_DURATION: Duration = Duration::from_secs(900);

/// What happens when a held connection is found dead: reconnect, with exponential backoff
/// and jitter, at most `max_attempts` times (0: no bound but the operation's deadline).
///
/// ```
/// let policy = websocket::Reconnect::default();
/// assert!(policy.enabled);
/// assert_eq!(policy.max_attempts, 5);
/// assert_eq!(policy.backoff_max, std::time::Duration::from_secs(60));
/// assert!(policy.check().is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Reconnect {
    /// Whether to reconnect at all. Default true (`WS_RECONNECT_ENABLED`).
    pub enabled: bool,
    /// Attempts at most; 0 is unbounded (the deadline still bounds them). Default 5
    /// (`WS_RECONNECT_MAX_ATTEMPTS`).
    pub max_attempts: u32,
    /// The first backoff; each next one doubles. Default 1 s (`WS_RECONNECT_BACKOFF_BASE`).
    pub backoff_base: Duration,
    /// The longest backoff. Default 60 s (`WS_RECONNECT_BACKOFF_MAX`).
    pub backoff_max: Duration,
    /// Fraction of each backoff drawn at random, 0–1. Default 0.1 (`WS_RECONNECT_JITTER`).
    pub jitter: f64,
}

impl Default for Reconnect {
    fn default() -> Self {
        Reconnect {
            enabled: true,
            max_attempts: 5,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            jitter: 0.1,
        }
    }
}

impl Reconnect {
    /// No reconnecting.
    ///
    /// ```
    /// assert!(!websocket::Reconnect::disabled().enabled);
    /// ```
    pub fn disabled() -> Self {
        Reconnect {
            enabled: false,
            ..Reconnect::default()
        }
    }

    /// Sets the attempts (default 5; 0 is unbounded).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Sets the first backoff and the longest (defaults 1 s and 60 s).
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.backoff_base = base;
        self.backoff_max = max;
        self
    }

    /// Sets the jitter fraction (default 0.1).
    pub fn jitter(mut self, fraction: f64) -> Self {
        self.jitter = fraction;
        self
    }

    /// The backoff before attempt `attempt` (0-based), before jitter: the base doubled per
    /// attempt, at most the longest.
    ///
    /// ```
    /// use std::time::Duration;
    /// let policy = websocket::Reconnect::default();
    /// assert_eq!(policy.backoff_before(0), Duration::from_secs(1));
    /// assert_eq!(policy.backoff_before(3), Duration::from_secs(8));
    /// assert_eq!(policy.backoff_before(40), Duration::from_secs(60));
    /// ```
    pub fn backoff_before(&self, attempt: u32) -> Duration {
        let factor = 2f64.powi(attempt.min(60) as i32);
        let seconds =
            (self.backoff_base.as_secs_f64() * factor).min(self.backoff_max.as_secs_f64());
        Duration::from_secs_f64(seconds)
    }

    /// Checks the ranges: backoffs in (0, 900] s with the longest at least the first,
    /// jitter in [0, 1].
    pub fn check(&self) -> Result<()> {
        let limits = Limits;
        limits.duration("reconnect.backoff_base", self.backoff_base)?;
        limits.duration("reconnect.backoff_max", self.backoff_max)?;
        if self.backoff_max < self.backoff_base {
            return Err(invalid(
                "reconnect.backoff_max",
                "must be at least reconnect.backoff_base".into(),
            ));
        }
        if !(0.0..=1.0).contains(&self.jitter) {
            return Err(invalid(
                "reconnect.jitter",
                "must be a number from 0 to 1".into(),
            ));
        }
        Ok(())
    }
}

/// The ranges settings must be in.
pub(crate) struct Limits;

impl Limits {
    pub(crate) fn duration(&self, name: &'static str, value: Duration) -> Result<()> {
        if value.is_zero() || value > MAX_DURATION {
            return Err(invalid(
                name,
                "must be a number of seconds greater than 0 and at most 900".into(),
            ));
        }
        Ok(())
    }

    pub(crate) fn size(&self, name: &'static str, value: usize) -> Result<()> {
        if value == 0 || value > MAX_SIZE_LIMIT {
            return Err(invalid(
                name,
                format!("must be a number of bytes from 1 to {MAX_SIZE_LIMIT}"),
            ));
        }
        Ok(())
    }
}

/// The settings of the connections a [`WebSocketCore`](crate::WebSocketCore) opens. Each
/// field's default is the documented one; the per-process core reads them from the
/// `WS_*` environment ([`ConnectionConfig::from_env`]), an owned core takes what it is
/// given. A call's [`ConnectOptions`] override them for its connection.
///
/// `Debug` shows header names, never values, and proxies without credentials.
///
/// ```
/// use std::time::Duration;
/// use websocket::ConnectionConfig;
/// let config = ConnectionConfig::default()
///     .open_timeout(Duration::from_secs(5))
///     .header("User-Agent", "my-lambda/1.0");
/// assert_eq!(config.open_timeout, Duration::from_secs(5));
/// assert_eq!(config.close_timeout, Duration::from_secs(1));
/// assert_eq!(config.ping_interval, Some(Duration::from_secs(20)));
/// ```
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct ConnectionConfig {
    /// Bound on opening — resolve, TCP, proxy, TLS, upgrade — within the operation's
    /// timeout. Default 10 s (`WS_OPEN_TIMEOUT`).
    pub open_timeout: Duration,
    /// Bound on the closing handshake. Default 1 s, not 10: a Lambda pays for every second
    /// it waits on a peer that does not answer a close (`WS_CLOSE_TIMEOUT`).
    pub close_timeout: Duration,
    /// Idle time after which a held connection is checked before it is used; `None`
    /// disables the check. Default 20 s (`WS_PING_INTERVAL`, `none` disables).
    pub ping_interval: Option<Duration>,
    /// Bound on that check (cut to half the time the operation has left). Default 20 s
    /// (`WS_PING_TIMEOUT`).
    pub ping_timeout: Duration,
    /// Largest message sent or received, in bytes. Default
    /// [`DEFAULT_MAX_MESSAGE_SIZE`] (6 MiB − 4 KiB: an answer must fit Lambda's 6 MB
    /// response with its envelope) (`WS_MAX_MESSAGE_SIZE`).
    pub max_message_size: usize,
    /// Largest frame received, in bytes; never more than the largest message. Default: the
    /// largest message (`WS_MAX_FRAME_SIZE`).
    pub max_frame_size: usize,
    /// Data messages a liveness check may read ahead (while it waits for its pong) and keep
    /// for the next receive; more breaks the connection. Default 16
    /// (`WS_MAX_QUEUE_SIZE`). Nothing reads in the background in this synchronous client, so
    /// this is the only queue there is.
    pub max_queue_size: usize,
    /// What happens when a held connection is found dead. Default [`Reconnect::default`]
    /// (`WS_RECONNECT_*`).
    pub reconnect: Reconnect,
    /// Headers every upgrade request carries (a call's own come after them, one of the same
    /// name replacing it). Default none.
    pub headers: Vec<(String, String)>,
    /// Subprotocols offered when a call offers none. Default none.
    pub subprotocols: Vec<String>,
    /// Whether `wss://` certificates are *not* verified. Default false; true only when
    /// set explicitly (`WS_TLS_INSECURE=true`), with a warning line on every connect and
    /// `tls_insecure: true` in the answer.
    pub tls_insecure: bool,
    /// HTTP CONNECT proxies (`HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY`). Default none.
    pub proxy: Proxies,
}

impl fmt::Debug for ConnectionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("ConnectionConfig")
            .field("open_timeout", &self.open_timeout)
            .field("close_timeout", &self.close_timeout)
            .field("ping_interval", &self.ping_interval)
            .field("ping_timeout", &self.ping_timeout)
            .field("max_message_size", &self.max_message_size)
            .field("max_frame_size", &self.max_frame_size)
            .field("max_queue_size", &self.max_queue_size)
            .field("reconnect", &self.reconnect)
            .field("headers", &names)
            .field("subprotocols", &self.subprotocols)
            .field("tls_insecure", &self.tls_insecure)
            .field("proxy", &self.proxy)
            .finish()
    }
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig {
            open_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(1),
            ping_interval: Some(Duration::from_secs(20)),
            ping_timeout: Duration::from_secs(20),
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_frame_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_queue_size: 16,
            reconnect: Reconnect::default(),
            headers: Vec::new(),
            subprotocols: Vec::new(),
            tls_insecure: false,
            proxy: Proxies::default(),
        }
    }
}

impl ConnectionConfig {
    /// Sets the bound on opening (default 10 s).
    pub fn open_timeout(mut self, timeout: Duration) -> Self {
        self.open_timeout = timeout;
        self
    }

    /// Sets the bound on the closing handshake (default 1 s).
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Sets the idle time before a liveness check; `None` disables it (default 20 s).
    pub fn ping_interval(mut self, interval: Option<Duration>) -> Self {
        self.ping_interval = interval;
        self
    }

    /// Sets the bound on the liveness check (default 20 s).
    pub fn ping_timeout(mut self, timeout: Duration) -> Self {
        self.ping_timeout = timeout;
        self
    }

    /// Sets the largest message, and the largest frame with it (default
    /// [`DEFAULT_MAX_MESSAGE_SIZE`] for both).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self.max_frame_size = bytes;
        self
    }

    /// Sets the largest frame (default: the largest message).
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// Sets how many messages a liveness check may read ahead (default 16).
    pub fn max_queue_size(mut self, messages: usize) -> Self {
        self.max_queue_size = messages;
        self
    }

    /// Sets the reconnect policy (default [`Reconnect::default`]).
    pub fn reconnect(mut self, policy: Reconnect) -> Self {
        self.reconnect = policy;
        self
    }

    /// Adds a header every upgrade request carries (default none).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Offers a subprotocol when a call offers none (default none).
    pub fn subprotocol(mut self, name: &str) -> Self {
        self.subprotocols.push(name.to_owned());
        self
    }

    /// Turns certificate verification off — for a test server only (default: verified).
    pub fn tls_insecure(mut self, insecure: bool) -> Self {
        self.tls_insecure = insecure;
        self
    }

    /// Sets the proxies (default none).
    pub fn proxy(mut self, proxies: Proxies) -> Self {
        self.proxy = proxies;
        self
    }

    /// These settings with a call's options on top: each option given replaces the
    /// setting, headers are added (one of the same name replacing the setting's), and
    /// subprotocols, when any are given, replace these.
    ///
    /// ```
    /// use std::time::Duration;
    /// use websocket::{ConnectOptions, ConnectionConfig};
    /// let base = ConnectionConfig::default().header("User-Agent", "a").header("X-Team", "t");
    /// let call = ConnectOptions::default().header("user-agent", "b").close_timeout(Duration::from_millis(200));
    /// let merged = base.with(&call);
    /// assert_eq!(merged.headers, [("X-Team".to_owned(), "t".to_owned()), ("user-agent".to_owned(), "b".to_owned())]);
    /// assert_eq!(merged.close_timeout, Duration::from_millis(200));
    /// assert_eq!(merged.open_timeout, Duration::from_secs(10));
    /// ```
    pub fn with(&self, options: &ConnectOptions) -> ConnectionConfig {
        let mut merged = self.clone();
        if !options.headers.is_empty() {
            merged.headers.retain(|(name, _)| {
                !options
                    .headers
                    .iter()
                    .any(|(given, _)| given.eq_ignore_ascii_case(name))
            });
            merged.headers.extend(options.headers.iter().cloned());
        }
        if !options.subprotocols.is_empty() {
            merged.subprotocols = options.subprotocols.clone();
        }
        if let Some(v) = options.open_timeout {
            merged.open_timeout = v;
        }
        if let Some(v) = options.close_timeout {
            merged.close_timeout = v;
        }
        if let Some(v) = options.ping_interval {
            merged.ping_interval = v;
        }
        if let Some(v) = options.ping_timeout {
            merged.ping_timeout = v;
        }
        if let Some(v) = options.max_message_size {
            merged.max_message_size = v;
            // A frame limit that follows the message limit keeps following it.
            if self.max_frame_size == self.max_message_size {
                merged.max_frame_size = v;
            }
        }
        if let Some(v) = options.max_frame_size {
            merged.max_frame_size = v;
        }
        if let Some(v) = options.reconnect {
            merged.reconnect = v;
        }
        if let Some(enabled) = options.reconnect_enabled {
            merged.reconnect.enabled = enabled;
        }
        merged
    }

    /// Checks every setting is in its range (timeouts in (0, 900] s, sizes from 1 byte to
    /// 256 MiB, a queue of 1 to 4096 messages, valid headers and subprotocols).
    ///
    /// ```
    /// use websocket::ConnectionConfig;
    /// assert!(ConnectionConfig::default().check().is_ok());
    /// assert!(ConnectionConfig::default().max_message_size(0).check().is_err());
    /// ```
    pub fn check(&self) -> Result<()> {
        let limits = Limits;
        limits.duration("open_timeout", self.open_timeout)?;
        limits.duration("close_timeout", self.close_timeout)?;
        limits.duration("ping_timeout", self.ping_timeout)?;
        if let Some(interval) = self.ping_interval {
            limits.duration("ping_interval", interval)?;
        }
        limits.size("max_message_size", self.max_message_size)?;
        limits.size("max_frame_size", self.max_frame_size)?;
        if !(1..=MAX_QUEUE_LIMIT).contains(&self.max_queue_size) {
            return Err(invalid(
                "max_queue_size",
                format!("must be a number of messages from 1 to {MAX_QUEUE_LIMIT}"),
            ));
        }
        self.reconnect.check()?;
        check_headers(&self.headers)?;
        check_subprotocols(&self.subprotocols)
    }

    /// The largest frame tungstenite reads: never more than the largest message.
    pub(crate) fn frame_limit(&self) -> usize {
        self.max_frame_size.min(self.max_message_size)
    }
}

/// The most messages `max_queue_size` may allow.
pub const MAX_QUEUE_LIMIT: usize = 4096;

/// A configuration that cannot be used: the variable and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The environment variable (`WS_OPEN_TIMEOUT`).
    pub variable: &'static str,
    /// What is wrong, in a caller's terms (never a secret's value).
    pub problem: Box<str>,
}

impl From<ConfigProblem> for Error {
    fn from(problem: ConfigProblem) -> Error {
        Error::ConfigInvalid(Box::new(problem))
    }
}
