//! Peers for the integration tests: real servers on 127.0.0.1 (ephemeral ports), a
//! certificate authority made at test time, a capture of the log output, and gateways over
//! cores of their own, so tests never share the per-process core's registry or counters.
//!
//! ```no_run
//! let echo = tests::servers::echo();
//! let gateway = tests::own_gateway(gateway::ManagerConfig::default());
//! let reply = gateway.request(&echo.url(), &serde_json::json!({"a": 1}),
//!     std::time::Duration::from_secs(5), None).unwrap();
//! assert_eq!(reply.response().unwrap()["a"], 1);
//! ```
#![deny(missing_docs, missing_debug_implementations)]

pub mod capture;
pub mod pki;
pub mod servers;

use std::sync::Arc;

/// A gateway over a new core with `config`'s limits.
pub fn own_gateway(config: gateway::ManagerConfig) -> gateway::Gateway {
    gateway::Gateway::new(Arc::new(gateway::WebSocketCore::new(config)))
}

/// What an error reads as in an envelope: its code, sentence and details.
pub fn failure(error: &gateway::Error) -> gateway::Failure {
    gateway::Failure::from(error)
}
