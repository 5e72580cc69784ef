//! The WebSocket I/O layer: [`WebSocketCore`], an owned manager of connections (registry,
//! rate limit, statistics, TLS trust) whose methods open, use and close real sockets, and
//! [`Connection`], one open socket.
//!
//! Every step — name resolution, TCP connect, TLS handshake, HTTP upgrade, send, receive,
//! close — is bounded by the operation's timeout, and a timeout's error names the step.
//! This crate knows sockets and messages; it knows nothing of JSON envelopes, operations,
//! Home Assistant or Lambda. Users normally go through the `gateway` crate.
//!
//! ```no_run
//! use std::time::Duration;
//! use websocket::{Message, WebSocketCore};
//!
//! let reply = WebSocketCore::global().request(
//!     "wss://example.com/socket",
//!     Message::text(r#"{"type":"ping"}"#),
//!     Duration::from_secs(10),
//! )?;
//! println!("{}", reply.as_text().unwrap_or_default());
//! # Ok::<(), websocket::Error>(())
//! ```
#![deny(missing_docs, missing_debug_implementations)]

mod backoff;
pub mod codes;
mod config;
mod connection;
mod connection_config;
mod core;
mod env;
mod error;
mod held;
mod message;
mod options;
mod proxy;
mod registry;
mod stats;
mod stream;
mod tls;
mod transport;

pub use crate::backoff::Backoff;
pub use crate::config::{ManagerConfig, DEFAULT_MAX_MESSAGE_SIZE};
pub use crate::connection::{Connection, ConnectionInfo};
pub use crate::connection_config::{
    ConfigProblem, ConnectionConfig, Reconnect, MAX_DURATION, MAX_QUEUE_LIMIT, MAX_SIZE_LIMIT,
};
pub use crate::core::{Opened, WebSocketCore};
pub use crate::env::WS_VARIABLES;
pub use crate::error::{
    DeadlineExt, Error, OptionProblem, Phase, ResolveFailure, Result, TlsFailure,
};
pub use crate::held::{HeldBytes, HeldCharge, DEFAULT_HELD_BYTES_LIMIT};
pub use crate::message::{CloseFrame, Message};
pub use crate::options::ConnectOptions;
pub use crate::proxy::{NoProxy, Proxies, ProxyServer};
pub use crate::registry::ConnectionHandle;
pub use crate::stats::Stats;
pub use crate::tls::SystemRoots;
pub use crate::transport::{parse_url, MAX_UPGRADE_RESPONSE};
pub use contract::RateLimiter;

/// This layer's debug switches: `WEBSOCKET_DEBUG_MODE`, `WEBSOCKET_DEBUG_TIMING`.
pub static SCOPE: debug::Scope = debug::Scope::new("WEBSOCKET");
