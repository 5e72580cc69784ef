//! The public face of the framework: every WebSocket operation as a typed call, the JSON
//! envelope that answers at a Lambda or JSON boundary (with the one table that maps errors
//! to its stable codes), and the registry of process-wide singletons.
//!
//! ```no_run
//! use std::time::Duration;
//! use serde_json::json;
//!
//! // One request: connect, send, receive, close.
//! let call = gateway::Call::new().timeout(Duration::from_secs(10));
//! let reply = gateway::websocket_request("wss://example.com/ws", &json!({"type": "ping"}), &call)?;
//! println!("{:?} (correlation id {})", reply.response(), reply.correlation_id);
//!
//! // A connection that lives on between calls (and warm Lambda invocations).
//! let conn = gateway::websocket_connect("wss://example.com/ws", &call)?;
//! gateway::websocket_send(conn.connection.as_str(), &json!({"type": "subscribe"}), &call)?;
//! let next = gateway::websocket_receive(conn.connection.as_str(), &call)?;
//! gateway::websocket_close(conn.connection.as_str(), &gateway::Call::new())?;
//!
//! // At a JSON boundary: one envelope in, one out.
//! let envelope = gateway::websocket_execute("get_stats", json!({}));
//! assert_eq!(envelope["success"], true);
//! # Ok::<(), gateway::Error>(())
//! ```
#![deny(missing_docs, missing_debug_implementations)]

mod api;
mod call;
mod envelope;
mod failures;
mod gateway;
mod singletons;

pub use crate::api::{
    websocket_add_root_certificate, websocket_close, websocket_configure,
    websocket_configure_connections, websocket_connect, websocket_connection_config,
    websocket_execute, websocket_get_stats, websocket_info, websocket_receive, websocket_request,
    websocket_reset, websocket_send,
};
pub use crate::call::Call;
pub use crate::envelope::{envelope, envelope_of, error_envelope, success_envelope};
pub use crate::failures::{codes, error_code, websocket_code, ErrorCode, Failure};
pub use crate::gateway::Gateway;
pub use crate::singletons::{singleton_get, singleton_register, Singleton, WEBSOCKET_MANAGER};
pub use contract::{Envelope, LAMBDA_RESPONSE_LIMIT};
pub use interface::{
    Closed, Connected, Content, Described, Error, Expect, Operation, Outcome, Received, Reply,
    ResetDone, Response, Sent, Timeout, DEFAULT_TIMEOUT, OPERATION_NAMES,
};
pub use websocket::{
    Backoff, ConnectOptions, ConnectionConfig, ConnectionHandle, ConnectionInfo, ManagerConfig,
    Message, NoProxy, Phase, Proxies, ProxyServer, Reconnect, Stats, WebSocketCore,
    DEFAULT_MAX_MESSAGE_SIZE, WS_VARIABLES,
};

/// Result of every gateway call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// This layer's debug switches: `GATEWAY_DEBUG_MODE`, `GATEWAY_DEBUG_TIMING`.
pub static SCOPE: debug::Scope = debug::Scope::new("GATEWAY");
