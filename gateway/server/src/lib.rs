//! The server half's public face, beside the client's under `gateway/`: the `ws_*`
//! functions over the connection store, a router of API Gateway's WebSocket routes with
//! `on_connect` / `on_disconnect` hooks, and the built-in app. The same envelope as the
//! client's, from the ground floor; it depends on neither `websocket`, `interface` nor the
//! client `gateway`.
//!
//! ```
//! use server_gateway::{Envelope, ErrorCode, Failure};
//! let envelope = Envelope::failure(&Failure::new(ErrorCode::new("APIGW_NO_CONNECTION"), "No live connection."));
//! assert_eq!(envelope.error_code().map(ErrorCode::as_str), Some("APIGW_NO_CONNECTION"));
//! ```
#![deny(missing_docs, missing_debug_implementations)]

mod api;
pub mod app;
mod identity;
mod limits;
mod push_api;
mod router;
mod service;

pub use api::*;
pub use apigateway::{
    codes, management_endpoint, Answer, Audience, BroadcastReport, Connection, ConnectionUpdate,
    Error, EventKind, Management, Member, NewConnection, Outcome, Result, RetryRule, Store,
    StoreSettings, StoreStats, TableSpec, WsEvent,
};
pub use contract::{Envelope, ErrorCode, Failure};
pub use identity::{Identity, Principal};
pub use limits::{
    Limits, RateLimit, DEFAULT_CONNECTIONS_PER_USER, DEFAULT_RATE_LIMIT, DEFAULT_RATE_WINDOW,
};
pub use push_api::*;
pub use router::{handler, Context, Handler, Hook, Router};
pub use server_interface::SCOPE;
pub use service::{
    idle_limit, shape_of, EventShape, BROADCAST_PATH, DEFAULT_IDLE_LIMIT, STATS_PATH,
};
