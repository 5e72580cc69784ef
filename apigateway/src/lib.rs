//! The server half's asynchronous implementation, on the same floor as the client's
//! `websocket` crate: API Gateway's WebSocket events and answers, and the connection store
//! on DynamoDB through the AWS SDK (the Management API client follows). It shares only the
//! ground floor (`contract`) and `debug` with the client half, and never links its I/O
//! stack (tungstenite, the client's TLS).
//!
//! ```
//! assert_eq!(apigateway::SCOPE.name(), "APIGW");
//! ```
#![deny(missing_docs, missing_debug_implementations)]

mod answer;
pub mod auth;
pub mod codes;
mod error;
mod event;
mod http;
mod push;
mod sdk;
mod store;

pub use answer::Answer;
pub use error::{Error, Result};
pub use event::{EventKind, WsEvent, MAX_CONNECTION_ID_LEN};
pub use http::HttpRequest;
pub use push::{
    management_endpoint, Audience, BroadcastReport, HeartbeatReport, Management, Outcome,
    RetryRule, DEFAULT_CONCURRENCY, ENDPOINT_VARIABLE, HEARTBEAT_CURSOR,
};
pub use sdk::{endpoint_from_env, environment_suffices, plain_http_client, sdk_config};
pub use store::{check_id, Cursor, IdPages, Member, SweepPage};
pub use store::{
    timeouts, Connection, ConnectionUpdate, NewConnection, Store, StoreSettings, StoreStats,
    TableSpec, DEFAULT_PAGE_SIZE, DEFAULT_TABLE, DEFAULT_TTL, INDEX_BY_ACTIVITY, INDEX_BY_ROOM,
    INDEX_BY_USER, MAX_ID_LEN, MAX_METADATA_BYTES, MAX_ROOMS_PER_CONNECTION, SHARDS,
};

/// The server half's debug switches: `APIGW_DEBUG_MODE`, `APIGW_DEBUG_TIMING`.
pub static SCOPE: debug::Scope = debug::Scope::new("APIGW");

/// API Gateway's limit on one WebSocket message, from the ground floor.
pub use contract::API_GATEWAY_MESSAGE_LIMIT;
