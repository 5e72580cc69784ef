//! What can go wrong on a socket, in terms the caller can act on.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

/// The step of a connection's life a timeout or failure belongs to.
///
/// ```
/// assert_eq!(websocket::Phase::TlsHandshake.as_str(), "tls_handshake");
/// assert!(websocket::Phase::Upgrade.is_opening());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Resolving the host name.
    Resolve,
    /// Opening the TCP connection.
    Connect,
    /// Asking an HTTP proxy for a tunnel (CONNECT) and reading its answer.
    Proxy,
    /// The TLS handshake (`wss://`).
    TlsHandshake,
    /// The HTTP upgrade to WebSocket.
    Upgrade,
    /// Writing a message.
    Send,
    /// Waiting for and reading a message.
    Receive,
    /// The closing handshake.
    Close,
    /// Waiting for another thread to finish using the same connection.
    WaitForConnection,
    /// The liveness check of a held connection after a pause (a ping and its pong).
    Ping,
}

impl Phase {
    /// The phase as it appears in messages (`tls_handshake`, `receive`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Resolve => "resolve",
            Phase::Connect => "connect",
            Phase::Proxy => "proxy",
            Phase::TlsHandshake => "tls_handshake",
            Phase::Upgrade => "upgrade",
            Phase::Send => "send",
            Phase::Receive => "receive",
            Phase::Close => "close",
            Phase::WaitForConnection => "wait_for_connection",
            Phase::Ping => "ping",
        }
    }

    /// Whether the phase belongs to opening a connection (resolve, connect, proxy, TLS,
    /// upgrade).
    pub fn is_opening(self) -> bool {
        matches!(
            self,
            Phase::Resolve | Phase::Connect | Phase::Proxy | Phase::TlsHandshake | Phase::Upgrade
        )
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A TLS handshake that failed: the host and why.
#[derive(Debug)]
pub struct TlsFailure {
    /// The host name (or address) verified.
    pub host: String,
    /// Why: the certificate verification's verdict when it failed, else OpenSSL's error.
    pub reason: String,
    /// OpenSSL's error.
    pub source: openssl::ssl::Error,
}

/// A connection option that cannot be used: which parameter and why.
#[derive(Debug)]
pub struct OptionProblem {
    /// `headers` or `subprotocols`.
    pub parameter: &'static str,
    /// What is wrong (never a header's value).
    pub problem: Box<str>,
}

/// A name lookup that failed: the host and why.
#[derive(Debug)]
pub struct ResolveFailure {
    /// The host name as given.
    pub host: String,
    /// The resolver's answer.
    pub reason: String,
}

/// Why a socket operation failed. Every variant says what it means for the caller; the
/// cause from the library below is kept as the [`source`](std::error::Error::source).
///
/// Messages never carry tokens, headers or URL credentials.
///
/// ```
/// use std::time::Duration;
/// let err = websocket::Error::Timeout { phase: websocket::Phase::Receive, after: Duration::from_secs(2) };
/// assert_eq!(err.to_string(), "Timed out after 2.000 s during receive.");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL cannot be used: not a URL, not `ws`/`wss`, or no host.
    #[error("Invalid parameter 'url': {problem}.")]
    InvalidUrl {
        /// What is wrong with it (never the URL itself).
        problem: Box<str>,
    },
    /// A connection option cannot be used (a header the handshake owns, a value with a line
    /// break, a subprotocol that is not a token).
    #[error("Invalid parameter '{}': {}.", .0.parameter, .0.problem)]
    InvalidOption(Box<OptionProblem>),
    /// The configuration is malformed (a `WS_*` variable that does not parse, an unreadable
    /// `WS_CA_CERT`): every operation of the core fails with it until the process restarts
    /// with a usable value.
    #[error("Invalid configuration '{}': {}.", .0.variable, .0.problem)]
    ConfigInvalid(Box<crate::connection_config::ConfigProblem>),
    /// The HTTP proxy answered CONNECT with another status than 2xx (407, or 401 from some
    /// proxies: it wants other credentials; 403: it does not allow the destination).
    #[error("The proxy refused the tunnel with HTTP {status}{}.", proxy_status_text(*status))]
    ProxyRefused {
        /// The HTTP status.
        status: u16,
    },
    /// The HTTP proxy failed otherwise: it closed the connection or did not speak HTTP.
    #[error("The proxy tunnel could not be opened: {reason}.")]
    ProxyFailed {
        /// Why.
        reason: Box<str>,
    },
    /// The server chose a subprotocol that was not offered, or none of those offered.
    #[error("The server {}.", if *chose_one { "chose a subprotocol that was not offered" } else { "accepted none of the subprotocols offered" })]
    SubprotocolRefused {
        /// Whether it chose one (not offered) rather than none.
        chose_one: bool,
    },
    /// A certificate given to trust is not PEM.
    #[error("Invalid parameter 'certificate': not a PEM certificate ({source}).")]
    InvalidCertificate {
        /// The TLS library's reason.
        #[source]
        source: Box<openssl::error::ErrorStack>,
    },
    /// A step outlived the operation's timeout. After a receive the connection may still be
    /// used; after a send it is dropped and the message was not delivered.
    #[error("{}", timeout_message(*phase, *after))]
    Timeout {
        /// The step that was running.
        phase: Phase,
        /// The operation's whole timeout.
        after: Duration,
    },
    /// The host name did not resolve.
    #[error("Could not resolve host '{}': {}.", .0.host, .0.reason)]
    Resolve(Box<ResolveFailure>),
    /// No TCP connection could be opened (refused, unreachable).
    #[error("Could not connect to {addr}: {source}.")]
    Connect {
        /// The last address tried.
        addr: Box<SocketAddr>,
        /// The system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The TLS connector could not be built.
    #[error("Could not set up TLS: {source}.")]
    TlsSetup {
        /// The TLS library's reason.
        #[source]
        source: Box<openssl::error::ErrorStack>,
    },
    /// The TLS handshake failed: certificate not trusted, expired, name mismatch, protocol
    /// error.
    #[error("TLS handshake with '{}' failed: {}.", .0.host, .0.reason)]
    TlsHandshake(Box<TlsFailure>),
    /// The server answered the upgrade request with another HTTP status than 101.
    #[error("The server refused the WebSocket upgrade with HTTP {status}.")]
    UpgradeRefused {
        /// The HTTP status.
        status: u16,
    },
    /// The upgrade failed for another reason (I/O, a malformed answer).
    #[error("{}", upgrade_message(source))]
    Upgrade {
        /// tungstenite's reason.
        #[source]
        source: Box<tungstenite::Error>,
    },
    /// The server closed the connection, with a close frame or without one.
    #[error("The server closed the connection.")]
    ConnectionClosed {
        /// The close frame's code, when one came.
        code: Option<u16>,
        /// Why, as far as known: the close frame's reason or what the socket said.
        reason: Option<Box<str>>,
        /// The step that found it closed.
        phase: Option<Phase>,
    },
    /// The server sent a close frame whose code the protocol does not allow (such as 999,
    /// 1005 or 5000): a protocol violation, not a normal close.
    #[error("The server sent a close frame with a close code the protocol does not allow.")]
    InvalidCloseCode,
    /// The server's answer to the upgrade request is larger than the limit.
    #[error("The server's upgrade response exceeds {limit} bytes.")]
    UpgradeTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A message is above the size limit (`size` is known for messages sent).
    #[error("{}", too_large_message(*size, *limit))]
    MessageTooLarge {
        /// The message's size in bytes, when known.
        size: Option<usize>,
        /// The limit in bytes.
        limit: usize,
        /// Sending or receiving.
        phase: Phase,
    },
    /// The peer broke the WebSocket protocol, or the socket failed otherwise.
    #[error("The WebSocket {phase} failed: {source}.")]
    Protocol {
        /// Sending or receiving.
        phase: Phase,
        /// tungstenite's reason.
        #[source]
        source: Box<tungstenite::Error>,
    },
    /// Keeping the connection's partly received message would pass the process's budget of
    /// bytes held between calls ([`HeldBytes`](crate::HeldBytes)); the connection was dropped.
    #[error("The connection was dropped: keeping its partly received message ({held} bytes) would pass the process's budget of {limit} bytes held between calls.")]
    HeldBytesExceeded {
        /// Bytes the connection would have held.
        held: usize,
        /// The process's budget.
        limit: usize,
    },
    /// A held connection did not answer its liveness check in time (a dead peer, a black
    /// hole, a socket a frozen container kept), and reconnecting was off; it was dropped.
    #[error("The connection did not answer a liveness check within {:.3} s and was dropped.", after.as_secs_f64())]
    ConnectionDead {
        /// The check's bound.
        after: Duration,
    },
    /// The connection broke earlier (a protocol, capacity or I/O error) and is not read again.
    #[error("The connection broke earlier and cannot be used.")]
    Broken,
    /// The handle names no open connection (never opened, closed, or reset).
    #[error("No open connection '{handle}'.")]
    NoConnection {
        /// The handle given.
        handle: Box<str>,
    },
    /// The sliding-window rate limit refused the operation.
    #[error("Rate limit exceeded: at most {max} operations per {} ms.", window.as_millis())]
    RateLimited {
        /// Operations allowed per window.
        max: usize,
        /// The window.
        window: Duration,
    },
    /// The registry of open connections is full; close one first.
    #[error("The connection registry is full ({max} open); close a connection first.")]
    RegistryFull {
        /// The registry's bound.
        max: usize,
    },
}

/// Result of every socket operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A deadline in this crate's terms: the timeout error of its budget in a phase, and the
/// time left or that error. Every layer that bounds a step by a [`contract::Deadline`]
/// reports its timeout through these two.
///
/// ```
/// use std::time::Duration;
/// use websocket::{DeadlineExt, Phase};
/// let deadline = contract::Deadline::after(Duration::from_secs(2));
/// assert!(deadline.left_in(Phase::Receive).is_ok());
/// assert_eq!(deadline.timed_out(Phase::Receive).to_string(), "Timed out after 2.000 s during receive.");
/// ```
pub trait DeadlineExt {
    /// The timeout error of this deadline's budget in `phase`.
    fn timed_out(&self, phase: Phase) -> Error;
    /// Time left, or the timeout error in `phase` when none is.
    fn left_in(&self, phase: Phase) -> Result<Duration>;
}

impl DeadlineExt for contract::Deadline {
    fn timed_out(&self, phase: Phase) -> Error {
        Error::Timeout {
            phase,
            after: self.budget(),
        }
    }

    fn left_in(&self, phase: Phase) -> Result<Duration> {
        let left = self.left();
        if left.is_zero() {
            Err(self.timed_out(phase))
        } else {
            Ok(left)
        }
    }
}

impl Error {
    /// The phase the error belongs to, when it belongs to one.
    ///
    /// ```
    /// let err = websocket::Error::UpgradeRefused { status: 404 };
    /// assert_eq!(err.phase(), Some(websocket::Phase::Upgrade));
    /// ```
    pub fn phase(&self) -> Option<Phase> {
        match self {
            Error::Timeout { phase, .. }
            | Error::Protocol { phase, .. }
            | Error::MessageTooLarge { phase, .. } => Some(*phase),
            Error::ConnectionClosed { phase, .. } => *phase,
            Error::Resolve(_) => Some(Phase::Resolve),
            Error::Connect { .. } => Some(Phase::Connect),
            Error::ProxyRefused { .. } | Error::ProxyFailed { .. } => Some(Phase::Proxy),
            Error::TlsHandshake(_) => Some(Phase::TlsHandshake),
            Error::UpgradeRefused { .. }
            | Error::Upgrade { .. }
            | Error::UpgradeTooLarge { .. }
            | Error::SubprotocolRefused { .. } => Some(Phase::Upgrade),
            Error::InvalidCloseCode | Error::HeldBytesExceeded { .. } => Some(Phase::Receive),
            Error::ConnectionDead { .. } => Some(Phase::Ping),
            Error::InvalidUrl { .. }
            | Error::ConfigInvalid(_)
            | Error::InvalidOption(_)
            | Error::InvalidCertificate { .. }
            | Error::TlsSetup { .. }
            | Error::Broken
            | Error::NoConnection { .. }
            | Error::RateLimited { .. }
            | Error::RegistryFull { .. } => None,
        }
    }

    /// Whether the connection the error happened on can no longer be used (it is dropped
    /// and never read or written again). A send that timed out breaks it: the rest of the
    /// frame must never follow.
    ///
    /// ```
    /// use std::time::Duration;
    /// use websocket::{Error, Phase};
    /// assert!(Error::Broken.breaks_connection());
    /// assert!(Error::Timeout { phase: Phase::Send, after: Duration::from_secs(1) }.breaks_connection());
    /// assert!(!Error::Timeout { phase: Phase::Receive, after: Duration::from_secs(1) }.breaks_connection());
    /// assert!(!Error::RegistryFull { max: 1 }.breaks_connection());
    /// ```
    pub fn breaks_connection(&self) -> bool {
        matches!(
            self,
            Error::ConnectionClosed { .. }
                | Error::Protocol { .. }
                | Error::InvalidCloseCode
                | Error::Broken
                | Error::HeldBytesExceeded { .. }
                | Error::ConnectionDead { .. }
                | Error::Timeout {
                    phase: Phase::Send | Phase::Ping,
                    ..
                }
                | Error::MessageTooLarge {
                    phase: Phase::Receive,
                    ..
                }
        )
    }

    pub(crate) fn invalid_url(problem: impl Into<Box<str>>) -> Error {
        Error::InvalidUrl {
            problem: problem.into(),
        }
    }
}

fn proxy_status_text(status: u16) -> &'static str {
    match status {
        401 | 407 => " (Proxy Authentication Required: it wants other credentials)",
        403 => " (Forbidden)",
        502 => " (Bad Gateway: it could not reach the server)",
        _ => "",
    }
}

fn upgrade_message(e: &tungstenite::Error) -> String {
    match e {
        tungstenite::Error::Io(io) => {
            format!("The connection failed during the WebSocket upgrade: {io}.")
        }
        // Url errors can quote the URL, credentials included: say nothing of it.
        tungstenite::Error::Url(_) => "The URL could not be used for the WebSocket upgrade.".into(),
        other => format!("The WebSocket upgrade failed: {other}."),
    }
}

fn timeout_message(phase: Phase, after: Duration) -> String {
    let seconds = after.as_secs_f64();
    match phase {
        Phase::Send => format!(
            "Timed out after {seconds:.3} s during send: the message was not delivered, and the connection was dropped."
        ),
        _ => format!("Timed out after {seconds:.3} s during {phase}."),
    }
}

fn too_large_message(size: Option<usize>, limit: usize) -> String {
    match size {
        Some(size) => format!("The message is {size} bytes; the limit is {limit}."),
        None => format!("The message exceeds the size limit of {limit} bytes."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_stays_small() {
        assert!(
            std::mem::size_of::<Error>() <= 32,
            "{}",
            std::mem::size_of::<Error>()
        );
        assert!(std::mem::size_of::<Result<()>>() <= 32);
    }
}
