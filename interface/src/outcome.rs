//! Typed results of the operations; each serializes to the envelope's `data`.

use serde::ser::SerializeMap;
use serde::Serialize;
use serde_json::Value;
use websocket::{ConnectionHandle, Stats};

use crate::content::Content;

/// A success value that can fill a JSON envelope: `data` is its serialization and
/// `message` its one-line summary.
///
/// ```
/// use interface::{Reply, Sent};
/// let sent = Sent { connection: "ws-1".into(), correlation_id: "abc".into() };
/// assert_eq!(sent.summary(), "Message sent");
/// ```
pub trait Reply: Serialize {
    /// A one-line summary for the envelope's `message`.
    fn summary(&self) -> &'static str;
}

/// `connect` succeeded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Connected {
    /// Handle of the new connection, valid until closed.
    pub connection: ConnectionHandle,
    /// The operation's correlation id.
    pub correlation_id: String,
    /// The URL without credentials or query string.
    pub url: String,
    /// The subprotocol the server chose (absent when none was offered).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subprotocol: Option<String>,
    /// `true` when the server's certificate was not verified (`WS_TLS_INSECURE`); absent
    /// otherwise.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tls_insecure: bool,
}

/// `send` succeeded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sent {
    /// The connection used.
    pub connection: ConnectionHandle,
    /// The operation's correlation id.
    pub correlation_id: String,
}

/// `receive` succeeded: `{message | text | binary | kind+…, connection, correlation_id}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// What arrived, as expected (JSON in `message`).
    pub content: Content,
    /// The connection used.
    pub connection: ConnectionHandle,
    /// The operation's correlation id.
    pub correlation_id: String,
}

impl Received {
    /// The JSON message as a value, when JSON was expected.
    pub fn message(&self) -> Option<Value> {
        self.content.to_value()
    }
}

impl Serialize for Received {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        self.content.serialize_fields(&mut map, "message")?;
        map.serialize_entry("connection", &self.connection)?;
        map.serialize_entry("correlation_id", &self.correlation_id)?;
        map.end()
    }
}

/// `close` succeeded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Closed {
    /// The connection closed.
    pub connection: ConnectionHandle,
    /// The operation's correlation id.
    pub correlation_id: String,
}

/// `request` succeeded: `{response | text | binary | kind+…, correlation_id, url}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The server's reply, as expected (JSON in `response`).
    pub content: Content,
    /// The operation's correlation id.
    pub correlation_id: String,
    /// The URL without credentials or query string.
    pub url: String,
    /// `true` when the server's certificate was not verified (`WS_TLS_INSECURE`).
    pub tls_insecure: bool,
}

impl Response {
    /// The JSON reply as a value, when JSON was expected.
    pub fn response(&self) -> Option<Value> {
        self.content.to_value()
    }
}

impl Serialize for Response {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        self.content.serialize_fields(&mut map, "response")?;
        map.serialize_entry("correlation_id", &self.correlation_id)?;
        map.serialize_entry("url", &self.url)?;
        if self.tls_insecure {
            map.serialize_entry("tls_insecure", &true)?;
        }
        map.end()
    }
}

/// `info` answered: a held connection's state, age, last traffic and latency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Described {
    /// The connection described.
    pub connection: ConnectionHandle,
    /// The operation's correlation id.
    pub correlation_id: String,
    /// Its state.
    #[serde(flatten)]
    pub info: websocket::ConnectionInfo,
}

/// `reset` succeeded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResetDone {
    /// The operation's correlation id.
    pub correlation_id: String,
}

impl Reply for Connected {
    fn summary(&self) -> &'static str {
        "WebSocket connected"
    }
}
impl Reply for Sent {
    fn summary(&self) -> &'static str {
        "Message sent"
    }
}
impl Reply for Received {
    fn summary(&self) -> &'static str {
        "Message received"
    }
}
impl Reply for Closed {
    fn summary(&self) -> &'static str {
        "WebSocket closed"
    }
}
impl Reply for Response {
    fn summary(&self) -> &'static str {
        "WebSocket request completed"
    }
}
impl Reply for ResetDone {
    fn summary(&self) -> &'static str {
        "WebSocket manager reset"
    }
}
impl Reply for Described {
    fn summary(&self) -> &'static str {
        "WebSocket connection described"
    }
}
impl Reply for Stats {
    fn summary(&self) -> &'static str {
        "WebSocket statistics"
    }
}

/// The result of any operation.
///
/// ```
/// use interface::{Outcome, Reply};
/// let outcome = Outcome::Stats(websocket::Stats::default());
/// assert_eq!(outcome.summary(), "WebSocket statistics");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Outcome {
    /// See [`Connected`].
    Connected(Connected),
    /// See [`Sent`].
    Sent(Sent),
    /// See [`Received`].
    Received(Received),
    /// See [`Closed`].
    Closed(Closed),
    /// See [`Response`].
    Response(Response),
    /// The counters.
    Stats(Stats),
    /// See [`ResetDone`].
    Reset(ResetDone),
    /// See [`Described`].
    Info(Described),
}

impl Reply for Outcome {
    fn summary(&self) -> &'static str {
        match self {
            Outcome::Connected(r) => r.summary(),
            Outcome::Sent(r) => r.summary(),
            Outcome::Received(r) => r.summary(),
            Outcome::Closed(r) => r.summary(),
            Outcome::Response(r) => r.summary(),
            Outcome::Stats(r) => r.summary(),
            Outcome::Reset(r) => r.summary(),
            Outcome::Info(r) => r.summary(),
        }
    }
}
