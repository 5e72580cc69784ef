//! The public face of the framework: every WebSocket operation as a typed function, the JSON
//! envelope that answers at a Lambda or JSON boundary, and the registry of process-wide
//! singletons.
//!
//! ```no_run
//! use std::time::Duration;
//! use serde_json::json;
//!
//! // One request: connect, send, receive, close.
//! let reply = gateway::websocket_request("wss://example.com/ws", &json!({"type": "ping"}),
//!                                        Duration::from_secs(10), None)?;
//! println!("{} (correlation id {})", reply.response, reply.correlation_id);
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
mod singletons;

pub use api::{
    websocket_add_root_certificate, websocket_close, websocket_close_with_timeout,
    websocket_configure, websocket_connect, websocket_execute, websocket_get_stats,
    websocket_receive, websocket_request, websocket_reset, websocket_send,
    websocket_send_with_timeout,
};
pub use envelope::{envelope, error_envelope, success_envelope};
pub use interface::{correlation_id, OPERATION_NAMES};
pub use interface::{Closed, Connected, Outcome, Received, Reply, ResetDone, Response, Sent};
pub use singletons::{singleton_get, singleton_register, Singleton, WEBSOCKET_MANAGER};
pub use websocket::{
    validate_timeout, ConnectionHandle, Error, ErrorCode, ManagerConfig, Phase, Stats,
    WebSocketCore, DEFAULT_TIMEOUT,
};

/// Result of every gateway call.
pub type Result<T, E = Error> = std::result::Result<T, E>;
