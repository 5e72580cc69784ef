//! The typed operations.

use std::time::Duration;

use debug::{debug_line, redact_url, Scope, Timer};
use serde_json::Value;

use crate::envelope::{envelope, error_envelope};
use crate::{
    Closed, Connected, Error, ManagerConfig, Received, ResetDone, Response, Result, Sent, Stats,
    WebSocketCore,
};

const S: Scope = Scope::Gateway;

/// Resolves the correlation id, then runs `body` under a gateway debug line and timer.
fn traced<T>(
    name: &'static str,
    given_cid: Option<&str>,
    describe: impl FnOnce() -> String,
    body: impl FnOnce(&str) -> Result<T>,
) -> Result<T> {
    let cid = interface::correlation_id(given_cid)?;
    debug_line!(S, &cid, "{name} ({})", describe());
    let timer = Timer::start(S, &cid, name);
    let result = body(&cid);
    timer.finish();
    result
}

/// Opens a connection to a `ws://` or `wss://` URL and registers it; the handle in the
/// answer names it in later calls (and in later warm invocations).
///
/// `correlation_id`: `None` generates one; a given one is used unchanged.
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
    traced(
        "websocket_connect",
        correlation_id,
        || {
            format!(
                "url={}, timeout={}",
                redact_url(url),
                debug::seconds(timeout)
            )
        },
        |cid| interface::connect(url, timeout, cid),
    )
}

/// Sends one JSON message (object or array) on an open connection.
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
    websocket_send_with_timeout(connection, message, None, correlation_id)
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
    traced(
        "websocket_send",
        correlation_id,
        || format!("connection={connection}"),
        |cid| interface::send(connection, message, timeout, cid),
    )
}

/// Waits up to `timeout` for the next JSON message on an open connection.
///
/// ```no_run
/// let r = gateway::websocket_receive("ws-1", std::time::Duration::from_secs(5), None)?;
/// println!("{}", r.message);
/// # Ok::<(), gateway::Error>(())
/// ```
pub fn websocket_receive(
    connection: &str,
    timeout: Duration,
    correlation_id: Option<&str>,
) -> Result<Received> {
    traced(
        "websocket_receive",
        correlation_id,
        || {
            format!(
                "connection={connection}, timeout={}",
                debug::seconds(timeout)
            )
        },
        |cid| interface::receive(connection, timeout, cid),
    )
}

/// Closes an open connection.
///
/// ```no_run
/// gateway::websocket_close("ws-1", None)?;
/// # Ok::<(), gateway::Error>(())
/// ```
pub fn websocket_close(connection: &str, correlation_id: Option<&str>) -> Result<Closed> {
    websocket_close_with_timeout(connection, None, correlation_id)
}

/// [`websocket_close`] with the closing handshake bounded by `timeout` when that is shorter
/// than the manager's close timeout.
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
    traced(
        "websocket_close",
        correlation_id,
        || format!("connection={connection}"),
        |cid| interface::close(connection, timeout, cid),
    )
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
/// println!("{}", r.response);
/// # Ok::<(), gateway::Error>(())
/// ```
pub fn websocket_request(
    url: &str,
    message: &Value,
    timeout: Duration,
    correlation_id: Option<&str>,
) -> Result<Response> {
    traced(
        "websocket_request",
        correlation_id,
        || {
            format!(
                "url={}, timeout={}",
                redact_url(url),
                debug::seconds(timeout)
            )
        },
        |cid| interface::request(url, message, timeout, cid),
    )
}

/// The manager's counters.
///
/// ```
/// let stats = gateway::websocket_get_stats();
/// assert_eq!(stats.max_rate_limit, 300);
/// ```
pub fn websocket_get_stats() -> Stats {
    interface::get_stats()
}

/// Zeroes the counters, empties the rate window and closes every open connection.
///
/// ```
/// let done = gateway::websocket_reset(None).unwrap();
/// assert_eq!(done.correlation_id.len(), 13);
/// ```
pub fn websocket_reset(correlation_id: Option<&str>) -> Result<ResetDone> {
    traced("websocket_reset", correlation_id, String::new, |cid| {
        Ok(interface::reset(cid))
    })
}

/// Runs an operation given as JSON and answers with the envelope — the entry for Lambda
/// handlers and other JSON callers. Never fails: errors are envelopes too.
///
/// ```
/// let e = gateway::websocket_execute("teleport", serde_json::json!({}));
/// assert_eq!(e["success"], false);
/// assert_eq!(e["error_code"], "UNKNOWN_OPERATION");
/// ```
pub fn websocket_execute(operation: &str, params: Value) -> Value {
    let op = match interface::Operation::from_json(operation, &params) {
        Ok(op) => op,
        Err(e) => return error_envelope(&e),
    };
    let cid = op.correlation_id().unwrap_or("-").to_owned();
    debug_line!(S, &cid, "websocket_execute (operation={})", op.name());
    let timer = Timer::start(S, &cid, "websocket_execute");
    let result = interface::route(op);
    timer.finish();
    envelope(&result)
}

/// Replaces the manager's limits (registry size, rate limit, message size, close timeout).
///
/// ```no_run
/// gateway::websocket_configure(gateway::ManagerConfig::default().max_connections(16));
/// ```
pub fn websocket_configure(config: ManagerConfig) {
    WebSocketCore::global().configure(config);
}

/// Trusts an extra certificate authority (PEM) for `wss://`, on top of the system's roots.
///
/// ```no_run
/// let pem = std::fs::read("/etc/ssl/my-ca.pem").unwrap();
/// gateway::websocket_add_root_certificate(&pem)?;
/// # Ok::<(), gateway::Error>(())
/// ```
pub fn websocket_add_root_certificate(pem: &[u8]) -> Result<(), Error> {
    WebSocketCore::global().add_root_certificate(pem)
}
