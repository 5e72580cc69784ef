//! The server half's asynchronous implementation, on the same floor as the client's
//! `websocket` crate: API Gateway's WebSocket events, the connection store on DynamoDB and
//! the Management API client live here (the API Gateway issues build them). It shares only
//! the ground floor (`contract`) and `debug` with the client half, and never links its I/O
//! stack (tungstenite, the client's TLS).
//!
//! ```
//! assert_eq!(apigateway::SCOPE.name(), "APIGW");
//! ```
#![deny(missing_docs, missing_debug_implementations)]

/// The server half's debug switches: `APIGW_DEBUG_MODE`, `APIGW_DEBUG_TIMING`.
pub static SCOPE: debug::Scope = debug::Scope::new("APIGW");

/// API Gateway's limit on one WebSocket message, from the ground floor.
pub use contract::API_GATEWAY_MESSAGE_LIMIT;
