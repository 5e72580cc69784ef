//! The typed operations, read from an event with serde.

use debug::CorrelationId;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use websocket::{ConnectOptions, ConnectionHandle};

use crate::content::{Base64, Expect, Payload};
use crate::error::{Error, Result};
use crate::params::{
    from_event_text, ByteSize, Headers, JsonMessage, OptionFields, PingInterval, Subprotocols,
    Timeout,
};

/// The `operation` of an event given as text, read without building the rest.
///
/// ```
/// assert_eq!(interface::event_operation(r#"{"operation": "send", "text": "x"}"#).unwrap(), "send");
/// let err = interface::event_operation("[1]").unwrap_err();
/// assert_eq!(err.to_string(), "Invalid parameter 'event': must be a JSON object.");
/// ```
pub fn event_operation(event: &str) -> Result<String> {
    #[derive(Deserialize)]
    struct Tag<'a> {
        #[serde(borrow, default)]
        operation: Option<&'a RawValue>,
    }
    let not_object = || Error::invalid_parameter("event", "must be a JSON object");
    if !event.trim_start().starts_with('{') {
        return Err(not_object());
    }
    let tag: Tag<'_> = serde_json::from_str(event).map_err(|_| not_object())?;
    match tag.operation.filter(|raw| raw.get() != "null") {
        None => Err(Error::invalid_parameter("operation", "is required")),
        Some(raw) => serde_json::from_str::<String>(raw.get())
            .map_err(|_| Error::invalid_parameter("operation", "must be a string")),
    }
}

/// The operation names [`Operation::from_event`] accepts, in documentation order.
pub const OPERATION_NAMES: [&str; 8] = [
    "connect",
    "send",
    "receive",
    "close",
    "request",
    "info",
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
#[derive(Debug, Clone, PartialEq)]
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
    /// Describe a registered connection: state, age, last traffic, latency.
    Info(InfoParams),
    /// Read the manager's counters.
    GetStats(GetStatsParams),
    /// Zero the counters and close every connection.
    Reset(ResetParams),
}

/// Parameters of `connect`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectParams {
    /// `ws://` or `wss://` URL.
    pub url: String,
    /// Bound on the whole connect (default 10 s); the open timeout bounds it too.
    pub timeout: Timeout,
    /// The connection's options: headers (values are secrets), subprotocols, and any
    /// setting of the core's to override for this connection. Default: none.
    pub options: ConnectOptions,
    /// The caller's id for this request's log lines.
    pub correlation_id: Option<CorrelationId>,
}

/// `connect` as the event spells it. (The connection fields are listed here and in
/// `RequestFields` rather than flattened: serde's `flatten` buffers the whole event, which
/// `request`'s raw `message` cannot be read from.)
#[derive(Deserialize)]
struct ConnectFields {
    url: String,
    #[serde(default)]
    timeout: Timeout,
    #[serde(default)]
    headers: Headers,
    #[serde(default)]
    subprotocols: Subprotocols,
    #[serde(default)]
    open_timeout: Option<Timeout>,
    #[serde(default)]
    close_timeout: Option<Timeout>,
    #[serde(default)]
    ping_interval: Option<PingInterval>,
    #[serde(default)]
    ping_timeout: Option<Timeout>,
    #[serde(default)]
    max_message_size: Option<ByteSize>,
    #[serde(default)]
    max_frame_size: Option<ByteSize>,
    #[serde(default)]
    reconnect: Option<bool>,
    #[serde(default)]
    correlation_id: Option<CorrelationId>,
}

impl From<ConnectFields> for ConnectParams {
    fn from(f: ConnectFields) -> ConnectParams {
        ConnectParams {
            url: f.url,
            timeout: f.timeout,
            options: OptionFields {
                headers: f.headers,
                subprotocols: f.subprotocols,
                open_timeout: f.open_timeout,
                close_timeout: f.close_timeout,
                ping_interval: f.ping_interval,
                ping_timeout: f.ping_timeout,
                max_message_size: f.max_message_size,
                max_frame_size: f.max_frame_size,
                reconnect: f.reconnect,
            }
            .into_options(),
            correlation_id: f.correlation_id,
        }
    }
}

/// Parameters of `send`.
#[derive(Debug, Clone, PartialEq)]
pub struct SendParams {
    /// The handle `connect` returned.
    pub connection: ConnectionHandle,
    /// What to send: `message` (JSON), `text` or `binary` (base64), exactly one.
    pub payload: Payload,
    /// Bound on the write; `None` uses the connection's own timeout.
    pub timeout: Option<Timeout>,
    /// The caller's id for this request's log lines.
    pub correlation_id: Option<CorrelationId>,
}

/// `send` as the event spells it.
#[derive(Deserialize)]
struct SendFields {
    connection: ConnectionHandle,
    #[serde(default)]
    message: Option<JsonMessage>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    binary: Option<Base64>,
    #[serde(default)]
    timeout: Option<Timeout>,
    #[serde(default)]
    correlation_id: Option<CorrelationId>,
}

impl TryFrom<SendFields> for SendParams {
    type Error = Error;
    fn try_from(f: SendFields) -> Result<SendParams> {
        Ok(SendParams {
            connection: f.connection,
            payload: Payload::from_fields(f.message, f.text, f.binary)?,
            timeout: f.timeout,
            correlation_id: f.correlation_id,
        })
    }
}

/// Parameters of `receive`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ReceiveParams {
    /// The handle `connect` returned.
    pub connection: ConnectionHandle,
    /// What to accept (default JSON).
    #[serde(default)]
    pub expect: Expect,
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
    /// The close frame's status code (default 1000).
    #[serde(default)]
    pub code: Option<CloseCode>,
    /// The close frame's reason (default empty), at most 123 bytes.
    #[serde(default)]
    pub reason: Option<CloseReason>,
    /// Bound on the closing handshake when shorter than the close timeout.
    #[serde(default)]
    pub timeout: Option<Timeout>,
    /// The caller's id for this request's log lines.
    #[serde(default)]
    pub correlation_id: Option<CorrelationId>,
}

/// Parameters of `request`.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestParams {
    /// `ws://` or `wss://` URL.
    pub url: String,
    /// What to send: `message` (JSON), `text` or `binary` (base64), exactly one.
    pub payload: Payload,
    /// What to accept as the reply (default JSON).
    pub expect: Expect,
    /// Bound on the whole exchange (default 10 s).
    pub timeout: Timeout,
    /// The connection's options (as for `connect`). Default: none.
    pub options: ConnectOptions,
    /// The caller's id for this request's log lines.
    pub correlation_id: Option<CorrelationId>,
}

/// `request` as the event spells it.
#[derive(Deserialize)]
struct RequestFields {
    url: String,
    #[serde(default)]
    message: Option<JsonMessage>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    binary: Option<Base64>,
    #[serde(default)]
    expect: Expect,
    #[serde(default)]
    timeout: Timeout,
    #[serde(default)]
    headers: Headers,
    #[serde(default)]
    subprotocols: Subprotocols,
    #[serde(default)]
    open_timeout: Option<Timeout>,
    #[serde(default)]
    close_timeout: Option<Timeout>,
    #[serde(default)]
    ping_interval: Option<PingInterval>,
    #[serde(default)]
    ping_timeout: Option<Timeout>,
    #[serde(default)]
    max_message_size: Option<ByteSize>,
    #[serde(default)]
    max_frame_size: Option<ByteSize>,
    #[serde(default)]
    reconnect: Option<bool>,
    #[serde(default)]
    correlation_id: Option<CorrelationId>,
}

impl TryFrom<RequestFields> for RequestParams {
    type Error = Error;
    fn try_from(f: RequestFields) -> Result<RequestParams> {
        Ok(RequestParams {
            url: f.url,
            payload: Payload::from_fields(f.message, f.text, f.binary)?,
            expect: f.expect,
            timeout: f.timeout,
            options: OptionFields {
                headers: f.headers,
                subprotocols: f.subprotocols,
                open_timeout: f.open_timeout,
                close_timeout: f.close_timeout,
                ping_interval: f.ping_interval,
                ping_timeout: f.ping_timeout,
                max_message_size: f.max_message_size,
                max_frame_size: f.max_frame_size,
                reconnect: f.reconnect,
            }
            .into_options(),
            correlation_id: f.correlation_id,
        })
    }
}

/// A close code a client may send: 1000–1003, 1007–1011 or 3000–4999.
///
/// ```
/// use interface::CloseCode;
/// assert!(CloseCode::new(4000).is_ok());
/// assert!(CloseCode::new(1005).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "u16")]
pub struct CloseCode(u16);

impl TryFrom<u16> for CloseCode {
    type Error = &'static str;
    fn try_from(code: u16) -> std::result::Result<Self, Self::Error> {
        match code {
            1000..=1003 | 1007..=1011 | 3000..=4999 => Ok(CloseCode(code)),
            _ => Err("must be 1000-1003, 1007-1011 or 3000-4999"),
        }
    }
}

impl CloseCode {
    /// Checks a close code.
    pub fn new(code: u16) -> Result<CloseCode> {
        CloseCode::try_from(code).map_err(|p| Error::invalid_parameter("code", p))
    }

    /// The code.
    pub fn get(self) -> u16 {
        self.0
    }
}

/// A close reason: at most 123 bytes of UTF-8 (a control frame's payload is 125 bytes).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct CloseReason(String);

impl TryFrom<String> for CloseReason {
    type Error = &'static str;
    fn try_from(reason: String) -> std::result::Result<Self, Self::Error> {
        if reason.len() <= 123 {
            Ok(CloseReason(reason))
        } else {
            Err("must be at most 123 bytes")
        }
    }
}

impl CloseReason {
    /// Checks a close reason.
    pub fn new(reason: &str) -> Result<CloseReason> {
        CloseReason::try_from(reason.to_owned()).map_err(|p| Error::invalid_parameter("reason", p))
    }

    /// The reason.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Parameters of `info`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct InfoParams {
    /// The handle `connect` returned.
    pub connection: ConnectionHandle,
    /// Bound on waiting for another thread using the connection (default 10 s).
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
    /// internally tagged enums cannot; parameters that depend on each other, such as
    /// exactly one of `message`, `text` and `binary`, are checked right after.)
    ///
    /// ```
    /// use interface::Operation;
    /// let err = Operation::from_event(serde_json::json!({"operation": "connect"})).unwrap_err();
    /// assert_eq!(err.to_string(), "Invalid parameter 'url': is required.");
    /// ```
    pub fn from_event(event: Value) -> Result<Operation> {
        Operation::from_event_text(&event.to_string())
    }

    /// [`Operation::from_event`] on the event's JSON text: no tree is built, so a large
    /// message costs its size.
    ///
    /// ```
    /// let op = interface::Operation::from_event_text(
    ///     r#"{"operation": "send", "connection": "ws-1", "text": "hello"}"#).unwrap();
    /// assert_eq!(op.name(), "send");
    /// ```
    pub fn from_event_text(event: &str) -> Result<Operation> {
        Operation::from_named_event(&event_operation(event)?, event)
    }

    /// [`Operation::from_event_text`] when the caller already read the event's `operation`
    /// (`name`): the text is read once more, for the parameters only.
    ///
    /// ```
    /// let op = interface::Operation::from_named_event("get_stats", r#"{"operation": "get_stats"}"#).unwrap();
    /// assert_eq!(op.name(), "get_stats");
    /// ```
    pub fn from_named_event(name: &str, event: &str) -> Result<Operation> {
        Ok(match name {
            "connect" => Operation::Connect(from_event_text::<ConnectFields>(event)?.into()),
            "send" => Operation::Send(from_event_text::<SendFields>(event)?.try_into()?),
            "receive" => Operation::Receive(from_event_text(event)?),
            "close" => Operation::Close(from_event_text(event)?),
            "request" => Operation::Request(from_event_text::<RequestFields>(event)?.try_into()?),
            "info" => Operation::Info(from_event_text(event)?),
            "get_stats" => Operation::GetStats(from_event_text(event)?),
            "reset" => Operation::Reset(from_event_text(event)?),
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
            Operation::Info(_) => "info",
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
            Operation::Info(p) => p.correlation_id.as_ref(),
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
            Operation::Info(p) => Some(p.timeout),
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
            Operation::Info(p) => p.timeout = p.timeout.cut_to(budget),
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
            Operation::Info(p) => Some(&p.connection),
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
            | Operation::Info(_)
            | Operation::GetStats(_)
            | Operation::Reset(_) => None,
        }
    }
}
