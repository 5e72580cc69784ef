//! The free functions: the public face over the per-process core. Each takes a [`Call`]
//! for what one call may set (timeout, correlation id, connection options).

use serde_json::Value;

use crate::{
    Call, Closed, Connected, ConnectionConfig, Described, Gateway, ManagerConfig, Received,
    ResetDone, Response, Result, Sent, Stats,
};

/// Opens a connection to a `ws://` or `wss://` URL and registers it; the handle in the
/// answer names it in later calls (and in later warm invocations).
///
/// ```no_run
/// use gateway::Call;
/// let c = gateway::websocket_connect("ws://127.0.0.1:8765", &Call::new().correlation_id("req-1"))?;
/// assert_eq!(c.correlation_id, "req-1");
/// # Ok::<(), gateway::Error>(())
/// ```
pub fn websocket_connect(url: &str, call: &Call) -> Result<Connected> {
    Gateway::global().connect(url, call)
}

/// Sends one JSON message (object or array) on an open connection, within the call's
/// timeout or else the one the connection was opened with.
///
/// ```no_run
/// use gateway::Call;
/// gateway::websocket_send("ws-1", &serde_json::json!({"type": "ping"}), &Call::new())?;
/// let quick = Call::new().timeout(std::time::Duration::from_millis(500));
/// gateway::websocket_send("ws-1", &serde_json::json!({"type": "ping"}), &quick)?;
/// # Ok::<(), gateway::Error>(())
/// ```
pub fn websocket_send(connection: &str, message: &Value, call: &Call) -> Result<Sent> {
    Gateway::global().send(connection, message, call)
}

/// Waits up to the call's timeout (default 10 s) for the next JSON message on an open
/// connection.
///
/// ```no_run
/// use gateway::Call;
/// let r = gateway::websocket_receive("ws-1", &Call::new().timeout(std::time::Duration::from_secs(5)))?;
/// println!("{:?}", r.message());
/// # Ok::<(), gateway::Error>(())
/// ```
pub fn websocket_receive(connection: &str, call: &Call) -> Result<Received> {
    Gateway::global().receive(connection, call)
}

/// Closes an open connection, the closing handshake bounded by the connection's close
/// timeout or the call's timeout.
///
/// ```no_run
/// gateway::websocket_close("ws-1", &gateway::Call::new())?;
/// # Ok::<(), gateway::Error>(())
/// ```
pub fn websocket_close(connection: &str, call: &Call) -> Result<Closed> {
    Gateway::global().close(connection, call)
}

/// Connects, sends `message`, waits for one reply and closes — all within the call's
/// timeout (default 10 s).
///
/// ```no_run
/// let call = gateway::Call::new().timeout(std::time::Duration::from_secs(5));
/// let r = gateway::websocket_request("ws://127.0.0.1:8765", &serde_json::json!({"type": "ping"}), &call)?;
/// println!("{:?}", r.response());
/// # Ok::<(), gateway::Error>(())
/// ```
pub fn websocket_request(url: &str, message: &Value, call: &Call) -> Result<Response> {
    Gateway::global().request(url, message, call)
}

/// A held connection's state: open or broken, age, idle time, latency, reconnects.
///
/// ```no_run
/// let d = gateway::websocket_info("ws-1", &gateway::Call::new())?;
/// assert_eq!(d.info.state, "open");
/// # Ok::<(), gateway::Error>(())
/// ```
pub fn websocket_info(connection: &str, call: &Call) -> Result<Described> {
    Gateway::global().info(connection, call)
}

/// The per-process core's counters; `CONFIG_INVALID` when a `WS_*` variable is malformed.
///
/// ```
/// let stats = gateway::websocket_get_stats().unwrap();
/// assert_eq!(stats.max_rate_limit, 300);
/// ```
pub fn websocket_get_stats() -> Result<Stats> {
    Gateway::global().get_stats()
}

/// Zeroes the counters, empties the rate window and closes every open connection.
///
/// ```
/// let done = gateway::websocket_reset(&gateway::Call::new()).unwrap();
/// assert_eq!(done.correlation_id.len(), 13);
/// ```
pub fn websocket_reset(call: &Call) -> Result<ResetDone> {
    Gateway::global().reset(call)
}

/// Runs an operation given as JSON and answers with the envelope — the entry for JSON
/// callers. Never fails: errors are envelopes too.
///
/// ```
/// let e = gateway::websocket_execute("teleport", serde_json::json!({}));
/// assert_eq!(e["success"], false);
/// assert_eq!(e["error_code"], "UNKNOWN_OPERATION");
/// ```
pub fn websocket_execute(operation: &str, params: Value) -> Value {
    Gateway::global().execute(operation, params)
}

/// Replaces the per-process core's core-wide limits (registry size, rate limit).
///
/// ```no_run
/// gateway::websocket_configure(gateway::ManagerConfig::default().max_connections(16));
/// ```
pub fn websocket_configure(config: ManagerConfig) {
    Gateway::global().core().configure(config);
}

/// The settings the per-process core opens connections with: the `WS_*` environment's,
/// or what [`websocket_configure_connections`] set.
///
/// ```
/// let config = gateway::websocket_connection_config();
/// assert!(config.close_timeout > std::time::Duration::ZERO);
/// ```
pub fn websocket_connection_config() -> ConnectionConfig {
    Gateway::global().core().connection_config()
}

/// Replaces the settings the per-process core opens connections with. Start from
/// [`websocket_connection_config`] to keep what the environment set (precedence: per call >
/// set in code > environment > default).
///
/// ```no_run
/// let config = gateway::websocket_connection_config().open_timeout(std::time::Duration::from_secs(3));
/// gateway::websocket_configure_connections(config);
/// ```
pub fn websocket_configure_connections(config: ConnectionConfig) {
    Gateway::global().core().set_connection_config(config);
}

/// Trusts an extra certificate authority (PEM) for `wss://`, on top of the system's roots
/// (what `WS_CA_CERT` does from a file).
///
/// ```no_run
/// let pem = std::fs::read("/etc/ssl/my-ca.pem").unwrap();
/// gateway::websocket_add_root_certificate(&pem)?;
/// # Ok::<(), gateway::Error>(())
/// ```
pub fn websocket_add_root_certificate(pem: &[u8]) -> Result<()> {
    Ok(Gateway::global().core().add_root_certificate(pem)?)
}
