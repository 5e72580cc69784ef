//! The operations layer: one typed [`Operation`] per WebSocket operation, read from an
//! event with serde and validated once, and [`run`], which carries it out on a
//! [`WebSocketCore`](websocket::WebSocketCore) and answers with a typed [`Outcome`].
//!
//! The JSON side of messages lives here too: what is sent is a JSON object or array
//! ([`JsonMessage`]), what is received is parsed ([`decode`]).
//!
//! ```no_run
//! use interface::{run, Operation};
//! let op = Operation::from_event(serde_json::json!({
//!     "operation": "request", "url": "ws://127.0.0.1:8765", "message": {"type": "ping"}, "timeout": 5
//! }))?;
//! let outcome = run(websocket::WebSocketCore::global(), op, &debug::CorrelationId::generate())?;
//! println!("{}", serde_json::to_string(&outcome)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs, missing_debug_implementations)]

pub mod codes;
mod content;
mod dispatch;
mod error;
mod operation;
mod outcome;
mod params;

pub use content::{Base64, Content, Expect, Payload};
pub use dispatch::{close, connect, decode, info, receive, request, reset, run, send};
pub use error::{Error, Result, UnknownOperation};
pub use operation::{
    event_operation, CloseCode, CloseParams, CloseReason, ConnectParams, GetStatsParams,
    InfoParams, Operation, ReceiveParams, RequestParams, ResetParams, SendParams, OPERATION_NAMES,
};
pub use outcome::{
    Closed, Connected, Described, Outcome, Received, Reply, ResetDone, Response, Sent,
};
pub use params::{
    from_event, from_event_text, ByteSize, Headers, IntoTimeout, JsonMessage, PingInterval,
    Subprotocols, Timeout, DEFAULT_TIMEOUT, MAX_TIMEOUT_SECS,
};

/// This layer's debug switches: `INTERFACE_DEBUG_MODE`, `INTERFACE_DEBUG_TIMING`.
pub static SCOPE: debug::Scope = debug::Scope::new("INTERFACE");
