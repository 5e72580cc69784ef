//! The public face of the framework: every WebSocket operation as a typed call, the JSON
//! envelope that answers at a Lambda or JSON boundary (with the one table that maps errors
//! to its stable codes), and the registry of process-wide singletons.
//!
//! ```no_run
//! use std::time::Duration;
//! use serde_json::json;
//!
//! // One request: connect, send, receive, close.
//! let reply = gateway::websocket_request("wss://example.com/ws", &json!({"type": "ping"}),
//!                                        Duration::from_secs(10), None)?;
//! println!("{:?} (correlation id {})", reply.response(), reply.correlation_id);
//!
//! // A connection that lives on between calls (and warm Lambda invocations).
//! let conn = gateway::websocket_connect("wss://example.com/ws", Duration::from_secs(10), None)?;
//! gateway::websocket_send(conn.connection.as_str(), &json!({"type": "subscribe"}), None)?;
//! let next = gateway::websocket_receive(conn.connection.as_str(), Duration::from_secs(5), None)?;
//! gateway::websocket_close(conn.connection.as_str(), None)?;
//!
//! // At a JSON boundary: one envelope in, one out.
//! let envelope = gateway::websocket_execute("get_stats", json!({}));
//! assert_eq!(envelope["success"], true);
//! # Ok::<(), gateway::Error>(())
//! ```
#![deny(missing_docs, missing_debug_implementations)]

mod api;
mod envelope;
mod failures;
mod gateway;
mod singletons;

pub use crate::api::{
    websocket_add_root_certificate, websocket_close, websocket_close_with_timeout,
    websocket_configure, websocket_connect, websocket_execute, websocket_get_stats,
    websocket_receive, websocket_request, websocket_reset, websocket_send,
    websocket_send_with_timeout,
};
pub use crate::envelope::{envelope, envelope_of, error_envelope, success_envelope};
pub use crate::failures::{codes, error_code, websocket_code, ErrorCode, Failure};
pub use crate::gateway::Gateway;
pub use crate::singletons::{singleton_get, singleton_register, Singleton, WEBSOCKET_MANAGER};
pub use contract::{Envelope, LAMBDA_RESPONSE_LIMIT};
pub use interface::{
    Closed, Connected, Content, Error, Expect, Operation, Outcome, Received, Reply, ResetDone,
    Response, Sent, Timeout, DEFAULT_TIMEOUT, OPERATION_NAMES,
};
pub use websocket::{
    ConnectOptions, ConnectionHandle, ManagerConfig, Message, Phase, Stats, WebSocketCore,
    DEFAULT_MAX_MESSAGE_SIZE,
};

/// Result of every gateway call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// This layer's debug switches: `GATEWAY_DEBUG_MODE`, `GATEWAY_DEBUG_TIMING`.
pub static SCOPE: debug::Scope = debug::Scope::new("GATEWAY");
