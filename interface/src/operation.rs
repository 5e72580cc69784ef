//! The typed operations and their parsing from JSON.

use std::time::Duration;

use serde_json::Value;
use websocket::{Error, ErrorCode, Result};

use crate::params::{check_correlation_id, Params};

/// The operation names [`Operation::from_json`] accepts, in documentation order.
pub const OPERATION_NAMES: [&str; 7] = [
    "connect",
    "send",
    "receive",
    "close",
    "request",
    "get_stats",
    "reset",
];

/// One WebSocket operation with its validated parameters.
///
/// ```
/// use interface::Operation;
/// let op = Operation::from_json("close", &serde_json::json!({"connection": "ws-1"})).unwrap();
/// assert_eq!(op.name(), "close");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    /// Open a connection and register it.
    Connect {
        /// `ws://` or `wss://` URL.
        url: String,
        /// Bound on the whole connect.
        timeout: Duration,
        /// Id threaded through every layer's debug lines.
        correlation_id: String,
    },
    /// Send one JSON message on a registered connection.
    Send {
        /// The handle `connect` returned.
        connection: String,
        /// A JSON object or array.
        message: Value,
        /// Bound on the write; `None` uses the connection's own timeout.
        timeout: Option<Duration>,
        /// Id threaded through every layer's debug lines.
        correlation_id: String,
    },
    /// Wait for the next JSON message on a registered connection.
    Receive {
        /// The handle `connect` returned.
        connection: String,
        /// Bound on the wait.
        timeout: Duration,
        /// Id threaded through every layer's debug lines.
        correlation_id: String,
    },
    /// Close a registered connection.
    Close {
        /// The handle `connect` returned.
        connection: String,
        /// Bound on the closing handshake when shorter than the manager's close timeout.
        timeout: Option<Duration>,
        /// Id threaded through every layer's debug lines.
        correlation_id: String,
    },
    /// Connect, send, receive one reply, close.
    Request {
        /// `ws://` or `wss://` URL.
        url: String,
        /// A JSON object or array.
        message: Value,
        /// Bound on the whole exchange.
        timeout: Duration,
        /// Id threaded through every layer's debug lines.
        correlation_id: String,
    },
    /// Read the manager's counters.
    GetStats,
    /// Zero the counters and close every connection.
    Reset {
        /// Id threaded through every layer's debug lines.
        correlation_id: String,
    },
}

impl Operation {
    /// Parses `operation` with its `params` object. Missing or ill-typed parameters are
    /// `INVALID_PARAMETER` naming the parameter; an unknown name is `UNKNOWN_OPERATION`.
    ///
    /// ```
    /// use interface::Operation;
    /// let err = Operation::from_json("jump", &serde_json::json!({})).unwrap_err();
    /// assert_eq!(err.code(), websocket::ErrorCode::UnknownOperation);
    /// let err = Operation::from_json("connect", &serde_json::json!({})).unwrap_err();
    /// assert_eq!(err.details()["parameter"], "url");
    /// ```
    pub fn from_json(operation: &str, params: &Value) -> Result<Operation> {
        if !OPERATION_NAMES.contains(&operation) {
            return Err(unknown_operation(operation));
        }
        let p = Params::new(params)?;
        Ok(match operation {
            "connect" => Operation::Connect {
                url: p.required_str("url")?,
                timeout: p.timeout()?,
                correlation_id: p.correlation_id()?,
            },
            "send" => Operation::Send {
                connection: p.required_str("connection")?,
                message: p.required_message("message")?,
                timeout: p.optional_timeout()?,
                correlation_id: p.correlation_id()?,
            },
            "receive" => Operation::Receive {
                connection: p.required_str("connection")?,
                timeout: p.timeout()?,
                correlation_id: p.correlation_id()?,
            },
            "close" => Operation::Close {
                connection: p.required_str("connection")?,
                timeout: p.optional_timeout()?,
                correlation_id: p.correlation_id()?,
            },
            "request" => Operation::Request {
                url: p.required_str("url")?,
                message: p.required_message("message")?,
                timeout: p.timeout()?,
                correlation_id: p.correlation_id()?,
            },
            "get_stats" => Operation::GetStats,
            _ => Operation::Reset {
                correlation_id: p.correlation_id()?,
            },
        })
    }

    /// The operation's name as used in JSON.
    pub fn name(&self) -> &'static str {
        match self {
            Operation::Connect { .. } => "connect",
            Operation::Send { .. } => "send",
            Operation::Receive { .. } => "receive",
            Operation::Close { .. } => "close",
            Operation::Request { .. } => "request",
            Operation::GetStats => "get_stats",
            Operation::Reset { .. } => "reset",
        }
    }

    /// The correlation id the operation carries (`get_stats` carries none).
    pub fn correlation_id(&self) -> Option<&str> {
        match self {
            Operation::Connect { correlation_id, .. }
            | Operation::Send { correlation_id, .. }
            | Operation::Receive { correlation_id, .. }
            | Operation::Close { correlation_id, .. }
            | Operation::Request { correlation_id, .. }
            | Operation::Reset { correlation_id } => Some(correlation_id),
            Operation::GetStats => None,
        }
    }

    /// Checks what the JSON parser checks, for operations built in code.
    pub(crate) fn check(&self) -> Result<()> {
        match self.correlation_id() {
            Some(id) => check_correlation_id(id),
            None => Ok(()),
        }
    }
}

fn unknown_operation(operation: &str) -> Error {
    // Echo at most a short, printable prefix of what the caller sent.
    let shown: String = operation
        .chars()
        .filter(|c| !c.is_control())
        .take(64)
        .collect();
    Error::new(
        ErrorCode::UnknownOperation,
        format!(
            "Unknown WebSocket operation: '{shown}'. Valid: {}",
            OPERATION_NAMES.join(", ")
        ),
    )
    .with_detail("operation", shown)
    .with_detail("valid_operations", OPERATION_NAMES.to_vec())
}
