//! The implementation functions: validation, debug lines, timing and counting around the
//! manager and the transport. The interface layer calls these; users call the gateway.

use std::time::{Duration, Instant};

use debug::{debug_line, message_keys, redact_url, Scope, Timer};
use serde_json::Value;
use tungstenite::protocol::WebSocketConfig;

use crate::connection::Connection;
use crate::error::{Error, ErrorCode, Phase, Result};
use crate::manager::{no_connection, ConnectionHandle, WebSocketCore};
use crate::stats::Stats;
use crate::transport::{self, Dial};
use crate::validate::{validate_message, validate_timeout, validate_url};

const S: Scope = Scope::Websocket;

/// Runs one rate-limited operation: admits it, times it, counts its failure.
fn run<T>(
    operation: &'static str,
    correlation_id: &str,
    body: impl FnOnce(&WebSocketCore) -> Result<T>,
) -> Result<T> {
    let core = WebSocketCore::global();
    if let Err(e) = core.admit() {
        debug_line!(
            S,
            correlation_id,
            "Rate limit refused operation={operation}"
        );
        return Err(e);
    }
    let timer = Timer::start(S, correlation_id, operation);
    let result = body(core);
    timer.finish();
    if let Err(e) = &result {
        core.record(|s| s.errors_count += 1);
        debug_line!(
            S,
            correlation_id,
            "{operation} failed (error_code={}, message={})",
            e.code(),
            e.message()
        );
    }
    result
}

fn checked_timeout(timeout: Duration) -> Result<Duration> {
    validate_timeout(timeout.as_secs_f64()).map(|_| timeout)
}

/// Serializes a message for sending, enforcing the shape and the size limit.
fn encode(message: &Value, core: &WebSocketCore) -> Result<String> {
    validate_message(message)?;
    let text = serde_json::to_string(message)
        .map_err(|e| Error::invalid_parameter("message", &format!("cannot be serialized ({e})")))?;
    let max = core.config().max_message_size;
    if text.len() > max {
        return Err(Error::new(
            ErrorCode::MessageTooLarge,
            format!("The message is {} bytes; the limit is {max}.", text.len()),
        )
        .with_detail("size", text.len())
        .with_detail("max_message_size", max));
    }
    Ok(text)
}

/// Opens a connection (not registered).
fn open(
    core: &WebSocketCore,
    url: &str,
    timeout: Duration,
    deadline: Instant,
    correlation_id: &str,
) -> Result<Connection> {
    let parsed = validate_url(url)?;
    let redacted = redact_url(url);
    debug_line!(
        S,
        correlation_id,
        "Connecting to WebSocket (url={redacted}, timeout={})",
        debug::seconds(timeout)
    );
    let tls = if parsed.scheme() == "wss" {
        Some(core.tls_connector()?)
    } else {
        None
    };
    let max = core.config().max_message_size;
    let ws = transport::open(&Dial {
        url: &parsed,
        timeout,
        deadline,
        tls: tls.as_ref(),
        config: WebSocketConfig::default()
            .max_message_size(Some(max))
            .max_frame_size(Some(max)),
        correlation_id,
    })
    .map_err(|e| e.with_detail("url", redacted.as_str()))?;
    core.record(|s| s.connections_count += 1);
    Ok(Connection::new(ws, redacted))
}

/// Opens a connection and registers it; returns its handle.
///
/// ```no_run
/// let handle = websocket::connect("ws://127.0.0.1:8765", std::time::Duration::from_secs(5), "cid-1")?;
/// websocket::close(handle.as_str(), None, "cid-1")?;
/// # Ok::<(), websocket::Error>(())
/// ```
pub fn connect(url: &str, timeout: Duration, correlation_id: &str) -> Result<ConnectionHandle> {
    run("connect", correlation_id, |core| {
        let timeout = checked_timeout(timeout)?;
        let deadline = Instant::now() + timeout;
        let reservation = core.reserve()?;
        let connection = open(core, url, timeout, deadline, correlation_id)?;
        let handle = reservation.fill(connection, timeout);
        debug_line!(S, correlation_id, "Connected (connection={handle})");
        Ok(handle)
    })
}

/// Runs `body` on the registered connection `handle`, waiting at most until `deadline` for
/// another thread using it. A connection found closed is dropped from the registry.
fn with_connection<T>(
    core: &WebSocketCore,
    handle: &str,
    timeout: Duration,
    deadline: Instant,
    body: impl FnOnce(&mut Connection) -> Result<T>,
) -> Result<T> {
    let slot = core.lookup(handle)?;
    let mut guard = slot
        .connection
        .try_lock_until(deadline)
        .ok_or_else(|| Error::timeout(Phase::WaitForConnection, timeout))?;
    let connection = guard.as_mut().ok_or_else(|| no_connection(handle))?;
    let result = body(connection);
    if let Err(e) = &result {
        if e.code() == ErrorCode::WebsocketConnectionClosed {
            *guard = None;
            drop(guard);
            core.remove(handle);
        }
    }
    result.map_err(|e| e.with_detail("connection", handle))
}

/// Sends one JSON message (object or array) on an open connection, bounded by `timeout`,
/// or when `None` by the timeout the connection was opened with.
///
/// ```no_run
/// let msg = serde_json::json!({"type": "ping"});
/// websocket::send("ws-1", &msg, None, "cid-1")?;
/// # Ok::<(), websocket::Error>(())
/// ```
pub fn send(
    handle: &str,
    message: &Value,
    timeout: Option<Duration>,
    correlation_id: &str,
) -> Result<()> {
    run("send", correlation_id, |core| {
        let text = encode(message, core)?;
        let timeout = match timeout {
            Some(t) => checked_timeout(t)?,
            None => core.lookup(handle)?.timeout,
        };
        debug_line!(
            S,
            correlation_id,
            "Sending message (connection={handle}, message_keys={})",
            message_keys(message)
        );
        let deadline = Instant::now() + timeout;
        with_connection(core, handle, timeout, deadline, |conn| {
            conn.send_text(text, deadline, timeout)
        })?;
        core.record(|s| s.messages_sent_count += 1);
        Ok(())
    })
}

/// Waits up to `timeout` for the next JSON message on an open connection.
///
/// A message that was only partly read when the timeout fired is kept and completed by the
/// next receive.
///
/// ```no_run
/// let reply = websocket::receive("ws-1", std::time::Duration::from_secs(5), "cid-1")?;
/// # Ok::<(), websocket::Error>(())
/// ```
pub fn receive(handle: &str, timeout: Duration, correlation_id: &str) -> Result<Value> {
    run("receive", correlation_id, |core| {
        let timeout = checked_timeout(timeout)?;
        let deadline = Instant::now() + timeout;
        debug_line!(
            S,
            correlation_id,
            "Waiting for message (connection={handle}, timeout={})",
            debug::seconds(timeout)
        );
        let message = with_connection(core, handle, timeout, deadline, |conn| {
            conn.receive_json(deadline, timeout)
        })?;
        core.record(|s| s.messages_received_count += 1);
        debug_line!(
            S,
            correlation_id,
            "Received message (connection={handle}, message_keys={})",
            message_keys(&message)
        );
        Ok(message)
    })
}

/// Closes an open connection and removes it from the registry. The closing handshake is
/// bounded by the manager's close timeout (1 s by default), or by `timeout` when shorter.
///
/// ```no_run
/// websocket::close("ws-1", None, "cid-1")?;
/// # Ok::<(), websocket::Error>(())
/// ```
pub fn close(handle: &str, timeout: Option<Duration>, correlation_id: &str) -> Result<()> {
    run("close", correlation_id, |core| {
        let mut close_timeout = core.config().close_timeout;
        if let Some(t) = timeout {
            close_timeout = close_timeout.min(checked_timeout(t)?);
        }
        let slot = core.remove(handle).ok_or_else(|| no_connection(handle))?;
        let deadline = Instant::now() + close_timeout;
        // A connection busy in another thread closes when that thread lets go of it.
        if let Some(mut guard) = slot.connection.try_lock_until(deadline) {
            if let Some(conn) = guard.take() {
                debug_line!(
                    S,
                    correlation_id,
                    "Closing connection (connection={handle}, url={})",
                    conn.url
                );
                conn.close(deadline.saturating_duration_since(Instant::now()));
            }
        }
        Ok(())
    })
}

/// Connect, send one message, receive one reply, close — all within `timeout`. The
/// connection is closed whether or not the exchange succeeded, and is never registered.
///
/// ```no_run
/// let reply = websocket::request(
///     "ws://127.0.0.1:8765",
///     &serde_json::json!({"type": "ping"}),
///     std::time::Duration::from_secs(5),
///     "cid-1",
/// )?;
/// # Ok::<(), websocket::Error>(())
/// ```
pub fn request(
    url: &str,
    message: &Value,
    timeout: Duration,
    correlation_id: &str,
) -> Result<Value> {
    run("request", correlation_id, |core| {
        let timeout = checked_timeout(timeout)?;
        let text = encode(message, core)?;
        let deadline = Instant::now() + timeout;
        let mut conn = open(core, url, timeout, deadline, correlation_id)?;
        debug_line!(
            S,
            correlation_id,
            "Sending message (url={}, message_keys={})",
            conn.url,
            message_keys(message)
        );
        let exchange = conn
            .send_text(text, deadline, timeout)
            .inspect(|()| core.record(|s| s.messages_sent_count += 1))
            .and_then(|()| conn.receive_json(deadline, timeout));
        let close_budget = match &exchange {
            // The budget is spent: drop the socket without a closing handshake.
            Err(e) if e.code() == ErrorCode::WebsocketTimeout => Duration::ZERO,
            _ => core
                .config()
                .close_timeout
                .min(deadline.saturating_duration_since(Instant::now())),
        };
        conn.close(close_budget);
        let reply = exchange?;
        core.record(|s| s.messages_received_count += 1);
        debug_line!(
            S,
            correlation_id,
            "Received message (message_keys={})",
            message_keys(&reply)
        );
        Ok(reply)
    })
}

/// A snapshot of the manager's counters (not rate limited, not counted).
///
/// ```
/// let stats = websocket::get_stats();
/// assert_eq!(stats.max_rate_limit, 300);
/// ```
pub fn get_stats() -> Stats {
    WebSocketCore::global().stats()
}

/// Zeroes the counters, empties the rate window and closes every open connection.
///
/// ```
/// websocket::reset("cid-1");
/// assert_eq!(websocket::get_stats().total_operations, 0);
/// ```
pub fn reset(correlation_id: &str) {
    debug_line!(S, correlation_id, "Resetting manager");
    WebSocketCore::global().reset();
}
