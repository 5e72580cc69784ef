//! The closed set of error codes and the error type every layer returns.

use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value};

/// A stable, machine-readable error code. The set is closed: callers may match on it.
///
/// ```
/// use websocket::ErrorCode;
/// assert_eq!(ErrorCode::WebsocketTimeout.as_str(), "WEBSOCKET_TIMEOUT");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// A parameter is missing, has the wrong type or an invalid value.
    InvalidParameter,
    /// The operation name is not one the router knows.
    UnknownOperation,
    /// The sliding-window rate limit refused the operation.
    RateLimitExceeded,
    /// The registry of open connections is full; close one first.
    RegistryFull,
    /// DNS, TCP or the HTTP upgrade failed (refused, unreachable, rejected upgrade).
    WebsocketConnectFailed,
    /// The TLS handshake failed (certificate not trusted, name mismatch, protocol error).
    WebsocketTlsFailed,
    /// A step did not finish within its timeout; `details.phase` names the step.
    WebsocketTimeout,
    /// The connection handle names no open connection.
    WebsocketNoConnection,
    /// The server closed the connection (cleanly or not).
    WebsocketConnectionClosed,
    /// Writing a message failed for a reason other than a timeout or a close.
    WebsocketSendFailed,
    /// Reading a message failed for a reason other than a timeout or a close.
    WebsocketReceiveFailed,
    /// A received message is not JSON (or not the expected frame type).
    WebsocketParseFailed,
    /// A message exceeds the configured maximum size.
    MessageTooLarge,
    /// Home Assistant refused the access token.
    HaAuthFailed,
    /// Home Assistant answered a command with `"success": false`.
    HaCommandFailed,
    /// Required configuration (an environment variable) is missing or unusable.
    ConfigMissing,
}

impl ErrorCode {
    /// Every code, for documentation and exhaustive tests.
    pub const ALL: [ErrorCode; 16] = [
        ErrorCode::InvalidParameter,
        ErrorCode::UnknownOperation,
        ErrorCode::RateLimitExceeded,
        ErrorCode::RegistryFull,
        ErrorCode::WebsocketConnectFailed,
        ErrorCode::WebsocketTlsFailed,
        ErrorCode::WebsocketTimeout,
        ErrorCode::WebsocketNoConnection,
        ErrorCode::WebsocketConnectionClosed,
        ErrorCode::WebsocketSendFailed,
        ErrorCode::WebsocketReceiveFailed,
        ErrorCode::WebsocketParseFailed,
        ErrorCode::MessageTooLarge,
        ErrorCode::HaAuthFailed,
        ErrorCode::HaCommandFailed,
        ErrorCode::ConfigMissing,
    ];

    /// The code as it appears in the JSON envelope's `error_code`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidParameter => "INVALID_PARAMETER",
            ErrorCode::UnknownOperation => "UNKNOWN_OPERATION",
            ErrorCode::RateLimitExceeded => "RATE_LIMIT_EXCEEDED",
            ErrorCode::RegistryFull => "REGISTRY_FULL",
            ErrorCode::WebsocketConnectFailed => "WEBSOCKET_CONNECT_FAILED",
            ErrorCode::WebsocketTlsFailed => "WEBSOCKET_TLS_FAILED",
            ErrorCode::WebsocketTimeout => "WEBSOCKET_TIMEOUT",
            ErrorCode::WebsocketNoConnection => "WEBSOCKET_NO_CONNECTION",
            ErrorCode::WebsocketConnectionClosed => "WEBSOCKET_CONNECTION_CLOSED",
            ErrorCode::WebsocketSendFailed => "WEBSOCKET_SEND_FAILED",
            ErrorCode::WebsocketReceiveFailed => "WEBSOCKET_RECEIVE_FAILED",
            ErrorCode::WebsocketParseFailed => "WEBSOCKET_PARSE_FAILED",
            ErrorCode::MessageTooLarge => "MESSAGE_TOO_LARGE",
            ErrorCode::HaAuthFailed => "HA_AUTH_FAILED",
            ErrorCode::HaCommandFailed => "HA_COMMAND_FAILED",
            ErrorCode::ConfigMissing => "CONFIG_MISSING",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The step of a connection's life a timeout or failure belongs to.
///
/// ```
/// assert_eq!(websocket::Phase::TlsHandshake.as_str(), "tls_handshake");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Resolving the host name.
    Resolve,
    /// Opening the TCP connection.
    Connect,
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
}

impl Phase {
    /// The phase as it appears in `details.phase` and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Resolve => "resolve",
            Phase::Connect => "connect",
            Phase::TlsHandshake => "tls_handshake",
            Phase::Upgrade => "upgrade",
            Phase::Send => "send",
            Phase::Receive => "receive",
            Phase::Close => "close",
            Phase::WaitForConnection => "wait_for_connection",
        }
    }
}

/// An error with a stable [`ErrorCode`], one plain sentence, and structured details.
///
/// Messages and details never carry tokens, headers or URL credentials.
///
/// ```
/// use websocket::{Error, ErrorCode};
/// let err = Error::new(ErrorCode::InvalidParameter, "Parameter 'url' is required.")
///     .with_detail("parameter", "url");
/// assert_eq!(err.code(), ErrorCode::InvalidParameter);
/// assert_eq!(err.details()["parameter"], "url");
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    code: ErrorCode,
    message: String,
    details: Box<Map<String, Value>>,
}

/// Result alias used across the framework.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error with no details.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            details: Box::default(),
        }
    }

    /// Adds one detail (replacing an earlier value under the same key).
    pub fn with_detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    /// A timeout in `phase` after `timeout`.
    ///
    /// ```
    /// let err = websocket::Error::timeout(websocket::Phase::Receive, std::time::Duration::from_secs(2));
    /// assert_eq!(err.to_string(), "Timed out after 2.000 s during receive.");
    /// ```
    pub fn timeout(phase: Phase, timeout: Duration) -> Self {
        Error::new(
            ErrorCode::WebsocketTimeout,
            format!(
                "Timed out after {:.3} s during {}.",
                timeout.as_secs_f64(),
                phase.as_str()
            ),
        )
        .with_detail("phase", phase.as_str())
        .with_detail("timeout_seconds", timeout.as_secs_f64())
    }

    /// A missing, ill-typed or invalid parameter.
    ///
    /// ```
    /// let err = websocket::Error::invalid_parameter("timeout", "must be a number of seconds in (0, 900]");
    /// assert_eq!(err.to_string(), "Invalid parameter 'timeout': must be a number of seconds in (0, 900].");
    /// ```
    pub fn invalid_parameter(name: &str, problem: &str) -> Self {
        Error::new(
            ErrorCode::InvalidParameter,
            format!("Invalid parameter '{name}': {problem}."),
        )
        .with_detail("parameter", name)
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The one-sentence message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Structured details (phase, parameter, connection, ...).
    pub fn details(&self) -> &Map<String, Value> {
        &self.details
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_stays_small() {
        assert!(std::mem::size_of::<Error>() <= 40);
    }

    #[test]
    fn codes_are_unique_and_upper_snake() {
        let mut names: Vec<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len());
        for n in names {
            assert!(n.chars().all(|c| c.is_ascii_uppercase() || c == '_'), "{n}");
        }
    }
}
