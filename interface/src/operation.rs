//! The typed operations, read from an event with serde.

use debug::CorrelationId;
use serde::Deserialize;
use serde_json::{Map, Value};
use websocket::ConnectionHandle;

use crate::error::{Error, Result};
use crate::params::{from_event, JsonMessage, Timeout};

/// The operation names [`Operation::from_event`] accepts, in documentation order.
pub const OPERATION_NAMES: [&str; 7] = [
    "connect",
    "send",
    "receive",
    "close",
    "request",
    "get_stats",
    "reset",
];

/// One WebSocket operation with its validated parameters: the event's `operation` names
/// the variant, the other fields fill its parameters.
///
/// ```
/// use interface::Operation;
/// let op = Operation::from_event(serde_json::json!({"operation": "close", "connection": "ws-1"})).unwrap();
/// assert_eq!(op.name(), "close");
/// let err = Operation::from_event(serde_json::json!({"operation": "jump"})).unwrap_err();
/// assert!(err.to_string().starts_with("Unknown WebSocket operation: 'jump'."));
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "operation", rename_all = "snake_case")]
pub enum Operation {
    /// Open a connection and register it.
    Connect(ConnectParams),
    /// Send one JSON message on a registered connection.
    Send(SendParams),
    /// Wait for the next JSON message on a registered connection.
    Receive(ReceiveParams),
    /// Close a registered connection.
    Close(CloseParams),
    /// Connect, send, receive one reply, close.
    Request(RequestParams),
    /// Read the manager's counters.
    GetStats(GetStatsParams),
    /// Zero the counters and close every connection.
    Reset(ResetParams),
}

/// Parameters of `connect`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ConnectParams {
    /// `ws://` or `wss://` URL.
    pub url: String,
    /// Bound on the whole connect (default 10 s).
    #[serde(default)]
    pub timeout: Timeout,
    /// The caller's id for this request's log lines.
    #[serde(default)]
    pub correlation_id: Option<CorrelationId>,
}

/// Parameters of `send`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SendParams {
    /// The handle `connect` returned.
    pub connection: ConnectionHandle,
    /// A JSON object or array, sent as one text frame.
    pub message: JsonMessage,
    /// Bound on the write; `None` uses the connection's own timeout.
    #[serde(default)]
    pub timeout: Option<Timeout>,
    /// The caller's id for this request's log lines.
    #[serde(default)]
    pub correlation_id: Option<CorrelationId>,
}

/// Parameters of `receive`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ReceiveParams {
    /// The handle `connect` returned.
    pub connection: ConnectionHandle,
    /// Bound on the wait (default 10 s).
    #[serde(default)]
    pub timeout: Timeout,
    /// The caller's id for this request's log lines.
    #[serde(default)]
    pub correlation_id: Option<CorrelationId>,
}

/// Parameters of `close`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CloseParams {
    /// The handle `connect` returned.
    pub connection: ConnectionHandle,
    /// Bound on the closing handshake when shorter than the close timeout.
    #[serde(default)]
    pub timeout: Option<Timeout>,
    /// The caller's id for this request's log lines.
    #[serde(default)]
    pub correlation_id: Option<CorrelationId>,
}

/// Parameters of `request`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RequestParams {
    /// `ws://` or `wss://` URL.
    pub url: String,
    /// A JSON object or array.
    pub message: JsonMessage,
    /// Bound on the whole exchange (default 10 s).
    #[serde(default)]
    pub timeout: Timeout,
    /// The caller's id for this request's log lines.
    #[serde(default)]
    pub correlation_id: Option<CorrelationId>,
}

/// Parameters of `get_stats`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GetStatsParams {
    /// The caller's id for this request's log lines.
    #[serde(default)]
    pub correlation_id: Option<CorrelationId>,
}

/// Parameters of `reset`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ResetParams {
    /// Bound on closing the connections when shorter than the close timeout.
    #[serde(default)]
    pub timeout: Option<Timeout>,
    /// The caller's id for this request's log lines.
    #[serde(default)]
    pub correlation_id: Option<CorrelationId>,
}

impl Operation {
    /// Reads an event: an object whose `operation` names the operation. An unknown name is
    /// `UNKNOWN_OPERATION`; a missing, ill-typed or invalid parameter `INVALID_PARAMETER`
    /// naming it. (The tag is matched here and each variant's parameters are read with
    /// serde on their own, so an error can name its parameter, which serde's buffered
    /// internally tagged enums cannot.)
    ///
    /// ```
    /// use interface::Operation;
    /// let err = Operation::from_event(serde_json::json!({"operation": "connect"})).unwrap_err();
    /// assert_eq!(err.to_string(), "Invalid parameter 'url': is required.");
    /// ```
    pub fn from_event(event: Value) -> Result<Operation> {
        let name = match event.get("operation") {
            Some(Value::String(name)) => name.clone(),
            Some(_) => return Err(Error::invalid_parameter("operation", "must be a string")),
            None if event.is_object() => {
                return Err(Error::invalid_parameter("operation", "is required"))
            }
            None => return Err(Error::invalid_parameter("event", "must be a JSON object")),
        };
        Ok(match name.as_str() {
            "connect" => Operation::Connect(from_event(event)?),
            "send" => Operation::Send(from_event(event)?),
            "receive" => Operation::Receive(from_event(event)?),
            "close" => Operation::Close(from_event(event)?),
            "request" => Operation::Request(from_event(event)?),
            "get_stats" => Operation::GetStats(from_event(event)?),
            "reset" => Operation::Reset(from_event(event)?),
            other => {
                return Err(Error::unknown_operation(
                    other,
                    "WebSocket operation",
                    &OPERATION_NAMES,
                ))
            }
        })
    }

    /// Reads `operation` with its `params` (an object, or null for none).
    ///
    /// ```
    /// use interface::Operation;
    /// let op = Operation::from_params("get_stats", serde_json::Value::Null).unwrap();
    /// assert_eq!(op.name(), "get_stats");
    /// assert!(Operation::from_params("get_stats", serde_json::json!([1])).is_err());
    /// ```
    pub fn from_params(operation: &str, params: Value) -> Result<Operation> {
        let mut event = match params {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            _ => return Err(Error::invalid_parameter("params", "must be a JSON object")),
        };
        event.insert("operation".into(), Value::String(operation.to_owned()));
        Operation::from_event(Value::Object(event))
    }

    /// The operation's name as used in events.
    pub fn name(&self) -> &'static str {
        match self {
            Operation::Connect(_) => "connect",
            Operation::Send(_) => "send",
            Operation::Receive(_) => "receive",
            Operation::Close(_) => "close",
            Operation::Request(_) => "request",
            Operation::GetStats(_) => "get_stats",
            Operation::Reset(_) => "reset",
        }
    }

    /// The correlation id the caller gave, if any.
    pub fn correlation_id(&self) -> Option<&CorrelationId> {
        match self {
            Operation::Connect(p) => p.correlation_id.as_ref(),
            Operation::Send(p) => p.correlation_id.as_ref(),
            Operation::Receive(p) => p.correlation_id.as_ref(),
            Operation::Close(p) => p.correlation_id.as_ref(),
            Operation::Request(p) => p.correlation_id.as_ref(),
            Operation::GetStats(p) => p.correlation_id.as_ref(),
            Operation::Reset(p) => p.correlation_id.as_ref(),
        }
    }

    /// The timeout the operation will use, when it has one of its own.
    pub fn timeout(&self) -> Option<Timeout> {
        match self {
            Operation::Connect(p) => Some(p.timeout),
            Operation::Receive(p) => Some(p.timeout),
            Operation::Request(p) => Some(p.timeout),
            Operation::Send(p) => p.timeout,
            Operation::Close(p) => p.timeout,
            Operation::Reset(p) => p.timeout,
            Operation::GetStats(_) => None,
        }
    }

    /// Cuts the operation's timeout to `budget` (an invocation's time left). Operations
    /// whose timeout is optional get the default (10 s) cut to `budget`, so none can fall
    /// back to a longer timeout of its own.
    pub fn cut_to(&mut self, budget: std::time::Duration) {
        let cut = |t: &mut Option<Timeout>| *t = Some(t.unwrap_or_default().cut_to(budget));
        match self {
            Operation::Connect(p) => p.timeout = p.timeout.cut_to(budget),
            Operation::Receive(p) => p.timeout = p.timeout.cut_to(budget),
            Operation::Request(p) => p.timeout = p.timeout.cut_to(budget),
            Operation::Send(p) => cut(&mut p.timeout),
            Operation::Close(p) => cut(&mut p.timeout),
            Operation::Reset(p) => cut(&mut p.timeout),
            Operation::GetStats(_) => {}
        }
    }

    /// The connection the operation names, if any.
    pub fn connection(&self) -> Option<&ConnectionHandle> {
        match self {
            Operation::Send(p) => Some(&p.connection),
            Operation::Receive(p) => Some(&p.connection),
            Operation::Close(p) => Some(&p.connection),
            Operation::Connect(_)
            | Operation::Request(_)
            | Operation::GetStats(_)
            | Operation::Reset(_) => None,
        }
    }

    /// The URL the operation opens, if any (as given: redact before showing it).
    pub fn url(&self) -> Option<&str> {
        match self {
            Operation::Connect(p) => Some(&p.url),
            Operation::Request(p) => Some(&p.url),
            Operation::Send(_)
            | Operation::Receive(_)
            | Operation::Close(_)
            | Operation::GetStats(_)
            | Operation::Reset(_) => None,
        }
    }
}
