//! The WebSocket implementation layer: operations on real sockets ([`connect`], [`send`],
//! [`receive`], [`close`], [`request`]) and [`WebSocketCore`], the one per-process manager of
//! open connections, rate limit and statistics.
//!
//! Users normally go through the `gateway` crate; this layer is what it rests on.
//!
//! Every step — name resolution, TCP connect, TLS handshake, HTTP upgrade, send, receive,
//! close — is bounded by the operation's timeout, and a timeout's error names the step.
//!
//! ```no_run
//! use std::time::Duration;
//! let reply = websocket::request(
//!     "wss://example.com/socket",
//!     &serde_json::json!({"type": "ping"}),
//!     Duration::from_secs(10),
//!     &debug::generate_correlation_id(),
//! )?;
//! println!("{reply}");
//! # Ok::<(), websocket::Error>(())
//! ```
#![deny(missing_docs, missing_debug_implementations)]

mod config;
mod connection;
mod core;
mod error;
mod manager;
mod rate_limit;
mod stats;
mod stream;
mod transport;
mod validate;

pub use crate::config::ManagerConfig;
pub use crate::core::{close, connect, get_stats, receive, request, reset, send};
pub use crate::error::{Error, ErrorCode, Phase, Result};
pub use crate::manager::{ConnectionHandle, WebSocketCore};
pub use crate::rate_limit::RateLimiter;
pub use crate::stats::Stats;
pub use crate::validate::{
    validate_message, validate_timeout, validate_url, DEFAULT_TIMEOUT, MAX_TIMEOUT_SECS,
};
