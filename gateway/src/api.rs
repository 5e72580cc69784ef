//! The free functions: the public face over the per-process core.

use std::time::Duration;

use serde_json::Value;

use crate::{
    Closed, Connected, Gateway, ManagerConfig, Received, ResetDone, Response, Result, Sent, Stats,
};

/// Opens a connection to a `ws://` or `wss://` URL and registers it; the handle in the
/// answer names it in later calls (and in later warm invocations).
///
/// `correlation_id`: `None` uses the current request's, or generates one; a given one is
/// used unchanged.
///
/// ```no_run
/// let c = gateway::websocket_connect("ws://127.0.0.1:8765", gateway::DEFAULT_TIMEOUT, Some("req-1"))?;
/// assert_eq!(c.correlation_id, "req-1");
/// # Ok::<(), gateway::Error>(())
/// ```
pub fn websocket_connect(
    url: &str,
    timeout: Duration,
    correlation_id: Option<&str>,
) -> Result<Connected> {
    Gateway::global().connect(url, timeout, correlation_id)
}

/// Sends one JSON message (object or array) on an open connection, within the timeout the
/// connection was opened with.
///
/// ```no_run
/// gateway::websocket_send("ws-1", &serde_json::json!({"type": "ping"}), None)?;
/// # Ok::<(), gateway::Error>(())
/// ```
pub fn websocket_send(
    connection: &str,
    message: &Value,
    correlation_id: Option<&str>,
) -> Result<Sent> {
    Gateway::global().send(connection, message, None, correlation_id)
}

/// [`websocket_send`] bounded by `timeout` instead of the connection's own timeout
/// (`None` keeps the connection's).
///
/// ```no_run
/// let t = Some(std::time::Duration::from_millis(500));
/// gateway::websocket_send_with_timeout("ws-1", &serde_json::json!({"type": "ping"}), t, None)?;
/// # Ok::<(), gateway::Error>(())
/// ```
pub fn websocket_send_with_timeout(
    connection: &str,
    message: &Value,
    timeout: Option<Duration>,
    correlation_id: Option<&str>,
) -> Result<Sent> {
    Gateway::global().send(connection, message, timeout, correlation_id)
}

/// Waits up to `timeout` for the next JSON message on an open connection.
///
/// ```no_run
/// let r = gateway::websocket_receive("ws-1", std::time::Duration::from_secs(5), None)?;
/// println!("{:?}", r.message());
/// # Ok::<(), gateway::Error>(())
/// ```
pub fn websocket_receive(
    connection: &str,
    timeout: Duration,
    correlation_id: Option<&str>,
) -> Result<Received> {
    Gateway::global().receive(connection, timeout, correlation_id)
}

/// Closes an open connection.
///
/// ```no_run
/// gateway::websocket_close("ws-1", None)?;
/// # Ok::<(), gateway::Error>(())
/// ```
pub fn websocket_close(connection: &str, correlation_id: Option<&str>) -> Result<Closed> {
    Gateway::global().close(connection, None, correlation_id)
}

/// [`websocket_close`] with the closing handshake bounded by `timeout` when that is shorter
/// than the close timeout.
///
/// ```no_run
/// gateway::websocket_close_with_timeout("ws-1", Some(std::time::Duration::from_millis(200)), None)?;
/// # Ok::<(), gateway::Error>(())
/// ```
pub fn websocket_close_with_timeout(
    connection: &str,
    timeout: Option<Duration>,
    correlation_id: Option<&str>,
) -> Result<Closed> {
    Gateway::global().close(connection, timeout, correlation_id)
}

/// Connects, sends `message`, waits for one reply and closes — all within `timeout`.
///
/// ```no_run
/// let r = gateway::websocket_request(
///     "ws://127.0.0.1:8765",
///     &serde_json::json!({"type": "ping"}),
///     std::time::Duration::from_secs(5),
///     None,
/// )?;
/// println!("{:?}", r.response());
/// # Ok::<(), gateway::Error>(())
/// ```
pub fn websocket_request(
    url: &str,
    message: &Value,
    timeout: Duration,
    correlation_id: Option<&str>,
) -> Result<Response> {
    Gateway::global().request(url, message, timeout, correlation_id)
}

/// The per-process core's counters.
///
/// ```
/// let stats = gateway::websocket_get_stats();
/// assert_eq!(stats.max_rate_limit, 300);
/// ```
pub fn websocket_get_stats() -> Stats {
    Gateway::global().get_stats()
}

/// Zeroes the counters, empties the rate window and closes every open connection.
///
/// ```
/// let done = gateway::websocket_reset(None).unwrap();
/// assert_eq!(done.correlation_id.len(), 13);
/// ```
pub fn websocket_reset(correlation_id: Option<&str>) -> Result<ResetDone> {
    Gateway::global().reset(None, correlation_id)
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

/// Replaces the per-process core's limits (registry size, rate limit, message size, close
/// timeout).
///
/// ```no_run
/// gateway::websocket_configure(gateway::ManagerConfig::default().max_connections(16));
/// ```
pub fn websocket_configure(config: ManagerConfig) {
    Gateway::global().core().configure(config);
}

/// Trusts an extra certificate authority (PEM) for `wss://`, on top of the system's roots.
///
/// ```no_run
/// let pem = std::fs::read("/etc/ssl/my-ca.pem").unwrap();
/// gateway::websocket_add_root_certificate(&pem)?;
/// # Ok::<(), gateway::Error>(())
/// ```
pub fn websocket_add_root_certificate(pem: &[u8]) -> Result<()> {
    Ok(Gateway::global().core().add_root_certificate(pem)?)
}
