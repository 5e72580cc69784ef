//! A client for Home Assistant's WebSocket API, built on the `gateway` crate.
//!
//! * URL from a base URL (`http→ws`, `https→wss`, `/api/websocket` appended) or a
//!   `ws(s)://` URL used as given.
//! * Authentication with a long-lived access token; the token never appears in errors or
//!   logs (debug lines show message keys only).
//! * Strictly increasing command ids per connection; messages that arrive while a command
//!   waits for its result (events, other ids) are kept for their reader, in order.
//! * Warm reuse: the authenticated session stays open between invocations in one process,
//!   keyed by URL and a hash of the token, and is checked with a `ping` when it is used
//!   again after a pause; a dead one is replaced with backoff.
//! * Subscriptions (events, triggers, entities) that outlive a session: the id stays, the
//!   subscription is made again on the new session, and the next read reports the gap.
//!
//! ```no_run
//! use std::time::Duration;
//! use home_assistant::{HaClient, HaConfig};
//!
//! let client = HaClient::new(HaConfig::new("http://homeassistant.local:8123", "TOKEN")?, None)?;
//! let config = client.get_config(Duration::from_secs(10))?;
//! let sub = client.subscribe_events(Some("state_changed"), Duration::from_secs(5))?;
//! let read = client.next_events(sub, 10, Duration::from_secs(30))?;
//! client.unsubscribe(sub, Duration::from_secs(5))?;
//! # Ok::<(), home_assistant::Error>(())
//! ```
#![deny(missing_docs, missing_debug_implementations)]

mod answers;
mod backlog;
mod client;
pub mod codes;
mod config;
mod entities;
mod error;
mod hub;
mod operations;
mod protocol;
mod requests;
mod session;
mod stats;
mod subscriptions;
mod token;

pub use answers::{HaResult, SessionInfo, SessionStatus};
pub use backlog::{BACKLOG_LIMIT, BACKLOG_LIMIT_BYTES};
pub use client::HaClient;
pub use config::HaConfig;
pub use entities::{iso_time, Context, EntityState, ENTITY_FOLD_LIMIT_BYTES};
pub use error::{CommandFailure, Error, Result};
pub use hub::{
    add_root_certificate, close_all_sessions, set_command_rate_limit, stats, HomeAssistant,
    COMMANDS_PER_SECOND,
};
pub use requests::{Registry, ServiceCall};
pub use stats::HaStats;
pub use subscriptions::{Events, Gap, MAX_SUBSCRIPTIONS};
pub use token::{TokenSource, DEFAULT_EXTENSION_PORT, DEFAULT_TOKEN_CACHE_TTL, FETCH_TIMEOUT};

/// This client's debug switches: `HA_DEBUG_MODE`, `HA_DEBUG_TIMING`.
pub static SCOPE: debug::Scope = debug::Scope::new("HA");
