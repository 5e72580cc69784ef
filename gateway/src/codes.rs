//! The envelope's error codes, and the one table that turns every error of the layers
//! below into a code, a sentence and details.

use std::fmt;

use serde_json::{Map, Value};
use websocket::Phase;

/// A stable, machine-readable error code of the JSON envelope. The set is closed: callers
/// may match on it. The gateway owns the envelope, so it owns the whole set, codes of the
/// clients built on it (Home Assistant, configuration) included.
///
/// ```
/// use gateway::ErrorCode;
/// assert_eq!(ErrorCode::WebsocketTimeout.as_str(), "WEBSOCKET_TIMEOUT");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// A parameter is missing, has the wrong type or an invalid value.
    InvalidParameter,
    /// The operation name is not one the entry point knows.
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
    /// The server closed the connection (cleanly or not), or an error broke it.
    WebsocketConnectionClosed,
    /// Writing a message failed for a reason other than a timeout or a close.
    WebsocketSendFailed,
    /// Reading a message failed for a reason other than a timeout or a close.
    WebsocketReceiveFailed,
    /// A received message is not what was expected (not JSON, or binary).
    WebsocketParseFailed,
    /// A message exceeds the configured maximum size.
    MessageTooLarge,
    /// Home Assistant refused the access token.
    HaAuthFailed,
    /// Home Assistant answered a command with `"success": false`, or has no such entity.
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

    /// The code as it appears in the envelope's `error_code`.
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

/// The error half of an envelope: a code, one plain sentence and structured details.
///
/// Built from the typed errors of the layers below by `From` — the one place where
/// `error_code` strings are made — and by clients on top for their own errors.
///
/// ```
/// use std::time::Duration;
/// let err = websocket::Error::Timeout { phase: websocket::Phase::Receive, after: Duration::from_secs(2) };
/// let failure = gateway::Failure::from(&err);
/// assert_eq!(failure.code, gateway::ErrorCode::WebsocketTimeout);
/// assert_eq!(failure.details["phase"], "receive");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The stable code.
    pub code: ErrorCode,
    /// One sentence, no secrets.
    pub message: String,
    /// Structured details (phase, parameter, connection, correlation id, ...).
    pub details: Map<String, Value>,
}

impl Failure {
    /// A failure with no details.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
            details: Map::new(),
        }
    }

    /// Adds one detail (replacing an earlier value under the same key).
    pub fn with_detail(mut self, key: &str, value: impl Into<Value>) -> Failure {
        self.details.insert(key.to_owned(), value.into());
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// The code of a socket error.
pub fn websocket_code(e: &websocket::Error) -> ErrorCode {
    use websocket::Error as W;
    match e {
        W::InvalidUrl { .. } | W::InvalidCertificate { .. } => ErrorCode::InvalidParameter,
        W::Timeout { .. } => ErrorCode::WebsocketTimeout,
        W::Resolve(_) | W::Connect { .. } | W::UpgradeRefused { .. } => {
            ErrorCode::WebsocketConnectFailed
        }
        W::Upgrade { source } if matches!(**source, tungstenite::Error::Tls(_)) => {
            ErrorCode::WebsocketTlsFailed
        }
        W::Upgrade { .. } | W::UpgradeTooLarge { .. } => ErrorCode::WebsocketConnectFailed,
        W::InvalidCloseCode => ErrorCode::WebsocketReceiveFailed,
        W::TlsSetup { .. } | W::TlsHandshake { .. } => ErrorCode::WebsocketTlsFailed,
        W::ConnectionClosed { .. } | W::Broken => ErrorCode::WebsocketConnectionClosed,
        W::MessageTooLarge { .. } | W::HeldBytesExceeded { .. } => ErrorCode::MessageTooLarge,
        W::Protocol {
            phase: Phase::Send, ..
        } => ErrorCode::WebsocketSendFailed,
        W::Protocol { .. } => ErrorCode::WebsocketReceiveFailed,
        W::NoConnection { .. } => ErrorCode::WebsocketNoConnection,
        W::RateLimited { .. } => ErrorCode::RateLimitExceeded,
        W::RegistryFull { .. } => ErrorCode::RegistryFull,
        _ => ErrorCode::WebsocketReceiveFailed,
    }
}

fn websocket_details(e: &websocket::Error, details: &mut Map<String, Value>) {
    use websocket::Error as W;
    let mut put = |k: &str, v: Value| {
        details.insert(k.to_owned(), v);
    };
    match e {
        W::InvalidUrl { .. } => put("parameter", "url".into()),
        W::InvalidCertificate { .. } => put("parameter", "certificate".into()),
        W::Timeout { phase, after } => {
            put("phase", phase.as_str().into());
            put("timeout_seconds", after.as_secs_f64().into());
        }
        W::UpgradeRefused { status } => {
            put("phase", Phase::Upgrade.as_str().into());
            put("http_status", (*status).into());
        }
        W::ConnectionClosed {
            code,
            reason,
            phase,
        } => {
            if let Some(code) = code {
                put("close_code", (*code).into());
            }
            if let Some(reason) = reason {
                put("reason", reason.as_ref().into());
            }
            if let Some(phase) = phase {
                put("phase", phase.as_str().into());
            }
        }
        W::Broken => put("reason", "broken by an earlier error".into()),
        W::UpgradeTooLarge { limit } => {
            put("phase", Phase::Upgrade.as_str().into());
            put("max_bytes", (*limit).into());
        }
        W::InvalidCloseCode => {
            put("phase", Phase::Receive.as_str().into());
            put("frame", "close".into());
        }
        W::MessageTooLarge { size, limit, phase } => {
            if let Some(size) = size {
                put("size", (*size).into());
            }
            put("max_message_size", (*limit).into());
            put("phase", phase.as_str().into());
        }
        W::HeldBytesExceeded { held, limit } => {
            put("phase", Phase::Receive.as_str().into());
            put("held_bytes", (*held).into());
            put("max_held_bytes", (*limit).into());
        }
        W::NoConnection { handle } => put("connection", handle.as_ref().into()),
        W::RateLimited { max, window } => {
            put("max_rate_limit", (*max).into());
            put("window_ms", (window.as_millis() as u64).into());
        }
        W::RegistryFull { max } => put("max_connections", (*max).into()),
        other => {
            if let Some(phase) = other.phase() {
                put("phase", phase.as_str().into());
            }
        }
    }
}

impl From<&websocket::Error> for Failure {
    fn from(e: &websocket::Error) -> Failure {
        // Some errors quote the server (a close reason): a reflected secret goes.
        let message = debug::redact(&e.to_string()).into_owned();
        let mut failure = Failure::new(websocket_code(e), message);
        websocket_details(e, &mut failure.details);
        failure
    }
}

/// The code of an operation's error.
///
/// ```
/// let err = interface::Error::invalid_parameter("url", "is required");
/// assert_eq!(gateway::error_code(&err), gateway::ErrorCode::InvalidParameter);
/// ```
pub fn error_code(e: &interface::Error) -> ErrorCode {
    use interface::Error as I;
    match e {
        I::Websocket(w) => websocket_code(w),
        I::InvalidParameter { .. } => ErrorCode::InvalidParameter,
        I::UnknownOperation(_) => ErrorCode::UnknownOperation,
        I::NotJson { .. } | I::UnexpectedBinary { .. } | I::UnexpectedText { .. } => {
            ErrorCode::WebsocketParseFailed
        }
        _ => ErrorCode::WebsocketReceiveFailed,
    }
}

impl From<&interface::Error> for Failure {
    fn from(e: &interface::Error) -> Failure {
        use interface::Error as I;
        if let I::Websocket(w) = e {
            return Failure::from(w);
        }
        let mut failure = Failure::new(error_code(e), e.to_string());
        let details = &mut failure.details;
        match e {
            I::InvalidParameter { name, .. } => {
                details.insert("parameter".into(), name.as_ref().into());
            }
            I::UnknownOperation(unknown) => {
                details.insert("operation".into(), unknown.operation.clone().into());
                details.insert("valid_operations".into(), unknown.valid.clone().into());
            }
            I::NotJson {
                preview, length, ..
            } => {
                details.insert("preview".into(), preview.as_ref().into());
                details.insert("length".into(), (*length).into());
            }
            I::UnexpectedBinary { length, .. } => {
                details.insert("frame".into(), "binary".into());
                details.insert("length".into(), (*length).into());
            }
            I::UnexpectedText { length } => {
                details.insert("frame".into(), "text".into());
                details.insert("length".into(), (*length).into());
            }
            _ => {}
        }
        failure
    }
}

impl From<&Failure> for Failure {
    fn from(f: &Failure) -> Failure {
        f.clone()
    }
}

impl From<interface::Error> for Failure {
    fn from(e: interface::Error) -> Failure {
        Failure::from(&e)
    }
}

impl From<websocket::Error> for Failure {
    fn from(e: websocket::Error) -> Failure {
        Failure::from(&e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
