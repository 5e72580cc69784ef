//! Dispatch of operations to the implementation layer.
//!
//! Each operation has a typed entry ([`connect`], [`send`], ...) that the gateway calls, and
//! [`route`] / [`execute`] dispatch an [`Operation`] onto the same entries.

use std::time::Duration;

use debug::{debug_line, redact_url, Scope, Timer};
use serde_json::Value;
use websocket::{Result, Stats};

use crate::operation::Operation;
use crate::outcome::{Closed, Connected, Outcome, Received, ResetDone, Response, Sent};

const S: Scope = Scope::Interface;

/// Parses and runs one operation given as JSON.
///
/// ```
/// let outcome = interface::execute("get_stats", serde_json::Value::Null).unwrap();
/// assert!(matches!(outcome, interface::Outcome::Stats(_)));
/// let err = interface::execute("fly", serde_json::json!({})).unwrap_err();
/// assert_eq!(
///     err.message(),
///     "Unknown WebSocket operation: 'fly'. Valid: connect, send, receive, close, request, get_stats, reset"
/// );
/// ```
pub fn execute(operation: &str, params: Value) -> Result<Outcome> {
    route(Operation::from_json(operation, &params)?)
}

/// Runs one typed operation.
///
/// ```no_run
/// use interface::{route, Operation};
/// let outcome = route(Operation::Close { connection: "ws-1".into(), timeout: None, correlation_id: "abc".into() })?;
/// # Ok::<(), websocket::Error>(())
/// ```
pub fn route(operation: Operation) -> Result<Outcome> {
    operation.check()?;
    match operation {
        Operation::Connect {
            url,
            timeout,
            correlation_id,
        } => connect(&url, timeout, &correlation_id).map(Outcome::Connected),
        Operation::Send {
            connection,
            message,
            timeout,
            correlation_id,
        } => send(&connection, &message, timeout, &correlation_id).map(Outcome::Sent),
        Operation::Receive {
            connection,
            timeout,
            correlation_id,
        } => receive(&connection, timeout, &correlation_id).map(Outcome::Received),
        Operation::Close {
            connection,
            timeout,
            correlation_id,
        } => close(&connection, timeout, &correlation_id).map(Outcome::Closed),
        Operation::Request {
            url,
            message,
            timeout,
            correlation_id,
        } => request(&url, &message, timeout, &correlation_id).map(Outcome::Response),
        Operation::GetStats => Ok(Outcome::Stats(get_stats())),
        Operation::Reset { correlation_id } => Ok(Outcome::Reset(reset(&correlation_id))),
    }
}

/// Debug line, timing and correlation id in the error details around one dispatch.
fn traced<T>(name: &'static str, cid: &str, body: impl FnOnce() -> Result<T>) -> Result<T> {
    debug_line!(S, cid, "Dispatching operation={name}");
    let timer = Timer::start(S, cid, name);
    let result = body();
    timer.finish();
    result.map_err(|e| e.with_detail("correlation_id", cid))
}

/// Opens and registers a connection.
///
/// ```no_run
/// let c = interface::connect("ws://127.0.0.1:8765", std::time::Duration::from_secs(5), "abc")?;
/// # Ok::<(), websocket::Error>(())
/// ```
pub fn connect(url: &str, timeout: Duration, correlation_id: &str) -> Result<Connected> {
    traced("connect", correlation_id, || {
        Ok(Connected {
            connection: websocket::connect(url, timeout, correlation_id)?,
            url: redact_url(url),
            correlation_id: correlation_id.to_owned(),
        })
    })
}

/// Sends one JSON message on a registered connection, within `timeout` or, when `None`,
/// the connection's own timeout.
///
/// ```no_run
/// interface::send("ws-1", &serde_json::json!({"type": "ping"}), None, "abc")?;
/// # Ok::<(), websocket::Error>(())
/// ```
pub fn send(
    connection: &str,
    message: &Value,
    timeout: Option<Duration>,
    correlation_id: &str,
) -> Result<Sent> {
    traced("send", correlation_id, || {
        websocket::send(connection, message, timeout, correlation_id)?;
        Ok(Sent {
            connection: connection.into(),
            correlation_id: correlation_id.to_owned(),
        })
    })
}

/// Waits for the next JSON message on a registered connection.
///
/// ```no_run
/// let r = interface::receive("ws-1", std::time::Duration::from_secs(5), "abc")?;
/// # Ok::<(), websocket::Error>(())
/// ```
pub fn receive(connection: &str, timeout: Duration, correlation_id: &str) -> Result<Received> {
    traced("receive", correlation_id, || {
        Ok(Received {
            message: websocket::receive(connection, timeout, correlation_id)?,
            connection: connection.into(),
            correlation_id: correlation_id.to_owned(),
        })
    })
}

/// Closes a registered connection; the closing handshake takes at most the manager's close
/// timeout, or `timeout` when shorter.
///
/// ```no_run
/// interface::close("ws-1", None, "abc")?;
/// # Ok::<(), websocket::Error>(())
/// ```
pub fn close(connection: &str, timeout: Option<Duration>, correlation_id: &str) -> Result<Closed> {
    traced("close", correlation_id, || {
        websocket::close(connection, timeout, correlation_id)?;
        Ok(Closed {
            connection: connection.into(),
            correlation_id: correlation_id.to_owned(),
        })
    })
}

/// Connect, send, receive one reply, close.
///
/// ```no_run
/// let r = interface::request("ws://127.0.0.1:8765", &serde_json::json!({"a": 1}), std::time::Duration::from_secs(5), "abc")?;
/// # Ok::<(), websocket::Error>(())
/// ```
pub fn request(
    url: &str,
    message: &Value,
    timeout: Duration,
    correlation_id: &str,
) -> Result<Response> {
    traced("request", correlation_id, || {
        Ok(Response {
            response: websocket::request(url, message, timeout, correlation_id)?,
            url: redact_url(url),
            correlation_id: correlation_id.to_owned(),
        })
    })
}

/// The manager's counters.
///
/// ```
/// assert_eq!(interface::get_stats().max_rate_limit, 300);
/// ```
pub fn get_stats() -> Stats {
    websocket::get_stats()
}

/// Zeroes the counters and closes every connection.
///
/// ```
/// let done = interface::reset("abc");
/// assert_eq!(done.correlation_id, "abc");
/// ```
pub fn reset(correlation_id: &str) -> ResetDone {
    debug_line!(S, correlation_id, "Dispatching operation=reset");
    websocket::reset(correlation_id);
    ResetDone {
        correlation_id: correlation_id.to_owned(),
    }
}
