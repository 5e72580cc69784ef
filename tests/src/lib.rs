//! Peers for the integration tests: real servers on 127.0.0.1 (ephemeral ports), a
//! certificate authority made at test time, a capture of the log output, and gateways over
//! cores of their own, so tests never share the per-process core's registry or counters.
//!
//! ```no_run
//! let echo = tests::servers::echo();
//! let gateway = tests::own_gateway(gateway::ManagerConfig::default());
//! let call = gateway::Call::new().timeout(std::time::Duration::from_secs(5));
//! let reply = gateway.request(&echo.url(), &serde_json::json!({"a": 1}), &call).unwrap();
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

/// A gateway over a new core with `config`'s limits and `connections`' settings.
pub fn own_gateway_with(
    config: gateway::ManagerConfig,
    connections: gateway::ConnectionConfig,
) -> gateway::Gateway {
    gateway::Gateway::new(Arc::new(
        gateway::WebSocketCore::new(config).with_connections(connections),
    ))
}

/// A gateway over a core whose connection settings come from `pairs` standing in for the
/// environment (`WebSocketCore::from_lookup`: the `WS_*`, `WS_CA_CERT` and proxy
/// variables), as the per-process core reads the real one.
pub fn gateway_from_env(pairs: &[(&str, String)]) -> gateway::Gateway {
    let map: std::collections::HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    gateway::Gateway::new(Arc::new(gateway::WebSocketCore::from_lookup(
        gateway::ManagerConfig::default(),
        move |name| map.get(name).cloned(),
    )))
}

/// Runs an event given as JSON through `gateway`'s JSON boundary; the envelope as a value.
pub fn answer(gateway: &gateway::Gateway, event: serde_json::Value) -> serde_json::Value {
    gateway.answer_text(&event.to_string()).to_value()
}

/// What an error reads as in an envelope: its code, sentence and details.
pub fn failure(error: &gateway::Error) -> gateway::Failure {
    gateway::Failure::from(error)
}
