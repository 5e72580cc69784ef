//! This crate's error codes and the one place its errors become an envelope's failure.

use contract::{codes as shared, ErrorCode, Failure};
use serde_json::{Map, Value};

use crate::{Error, Phase};

/// The registry of open connections is full; close one first.
pub const REGISTRY_FULL: ErrorCode = ErrorCode::new("REGISTRY_FULL");
/// DNS, TCP or the HTTP upgrade failed (refused, unreachable, rejected upgrade).
pub const WEBSOCKET_CONNECT_FAILED: ErrorCode = ErrorCode::new("WEBSOCKET_CONNECT_FAILED");
/// The TLS handshake failed (certificate not trusted, name mismatch, protocol error).
pub const WEBSOCKET_TLS_FAILED: ErrorCode = ErrorCode::new("WEBSOCKET_TLS_FAILED");
/// A step did not finish within its timeout; `details.phase` names the step.
pub const WEBSOCKET_TIMEOUT: ErrorCode = ErrorCode::new("WEBSOCKET_TIMEOUT");
/// The connection handle names no open connection.
pub const WEBSOCKET_NO_CONNECTION: ErrorCode = ErrorCode::new("WEBSOCKET_NO_CONNECTION");
/// The server closed the connection (cleanly or not), or an error broke it.
pub const WEBSOCKET_CONNECTION_CLOSED: ErrorCode = ErrorCode::new("WEBSOCKET_CONNECTION_CLOSED");
/// Writing a message failed for a reason other than a timeout or a close.
pub const WEBSOCKET_SEND_FAILED: ErrorCode = ErrorCode::new("WEBSOCKET_SEND_FAILED");
/// Reading a message failed for a reason other than a timeout or a close.
pub const WEBSOCKET_RECEIVE_FAILED: ErrorCode = ErrorCode::new("WEBSOCKET_RECEIVE_FAILED");

/// Every code this crate declares (it also uses the shared `INVALID_PARAMETER`,
/// `RATE_LIMIT_EXCEEDED`, `MESSAGE_TOO_LARGE` and `CONFIG_INVALID`).
pub const ALL: &[ErrorCode] = &[
    REGISTRY_FULL,
    WEBSOCKET_CONNECT_FAILED,
    WEBSOCKET_TLS_FAILED,
    WEBSOCKET_TIMEOUT,
    WEBSOCKET_NO_CONNECTION,
    WEBSOCKET_CONNECTION_CLOSED,
    WEBSOCKET_SEND_FAILED,
    WEBSOCKET_RECEIVE_FAILED,
];

/// The code of a socket error.
///
/// ```
/// let err = websocket::Error::RegistryFull { max: 1 };
/// assert_eq!(websocket::codes::code_of(&err), websocket::codes::REGISTRY_FULL);
/// ```
pub fn code_of(e: &Error) -> ErrorCode {
    use Error as W;
    match e {
        W::InvalidUrl { .. } | W::InvalidCertificate { .. } | W::InvalidOption(_) => {
            shared::INVALID_PARAMETER
        }
        W::ConfigInvalid(_) => shared::CONFIG_INVALID,
        W::SubprotocolRefused { .. } => WEBSOCKET_CONNECT_FAILED,
        W::ProxyRefused { .. } | W::ProxyFailed { .. } => WEBSOCKET_CONNECT_FAILED,
        W::Timeout { .. } => WEBSOCKET_TIMEOUT,
        W::Resolve(_) | W::Connect { .. } | W::UpgradeRefused { .. } => WEBSOCKET_CONNECT_FAILED,
        W::Upgrade { .. } | W::UpgradeTooLarge { .. } => WEBSOCKET_CONNECT_FAILED,
        W::InvalidCloseCode => WEBSOCKET_RECEIVE_FAILED,
        W::TlsSetup { .. } | W::TlsHandshake { .. } => WEBSOCKET_TLS_FAILED,
        W::ConnectionClosed { .. } | W::Broken | W::ConnectionDead { .. } => {
            WEBSOCKET_CONNECTION_CLOSED
        }
        W::MessageTooLarge { .. } | W::HeldBytesExceeded { .. } => shared::MESSAGE_TOO_LARGE,
        W::Protocol {
            phase: Phase::Send, ..
        } => WEBSOCKET_SEND_FAILED,
        W::Protocol { .. } => WEBSOCKET_RECEIVE_FAILED,
        W::NoConnection { .. } => WEBSOCKET_NO_CONNECTION,
        W::RateLimited { .. } => shared::RATE_LIMIT_EXCEEDED,
        W::RegistryFull { .. } => REGISTRY_FULL,
    }
}

fn details_of(e: &Error, details: &mut Map<String, Value>) {
    use Error as W;
    let mut put = |k: &str, v: Value| {
        details.insert(k.to_owned(), v);
    };
    match e {
        W::InvalidUrl { .. } => put("parameter", "url".into()),
        W::InvalidCertificate { .. } => put("parameter", "certificate".into()),
        W::InvalidOption(problem) => put("parameter", problem.parameter.into()),
        W::ConfigInvalid(problem) => put("variable", problem.variable.into()),
        W::ProxyRefused { status } => {
            put("phase", Phase::Proxy.as_str().into());
            put("http_status", (*status).into());
        }
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
        W::ConnectionDead { after } => {
            put("phase", Phase::Ping.as_str().into());
            put("reason", "no answer to a liveness check".into());
            put("timeout_seconds", after.as_secs_f64().into());
        }
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

impl From<&Error> for Failure {
    fn from(e: &Error) -> Failure {
        // Some errors quote the server (a close reason): a reflected secret goes.
        let message = debug::redact(&e.to_string()).into_owned();
        let mut failure = Failure::new(code_of(e), message);
        details_of(e, &mut failure.details);
        failure
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::from(&e)
    }
}
