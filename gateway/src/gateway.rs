//! `Gateway`: the public face over one core — typed calls, JSON calls and envelopes, each
//! call under its request's correlation id.

use std::sync::Arc;

use debug::{debug_line, redact_url, CorrelationId, Timer};
use interface::{
    CloseCode, CloseParams, CloseReason, Closed, ConnectParams, Connected, Described, Expect,
    InfoParams, JsonMessage, Operation, Outcome, Payload, ReceiveParams, Received, RequestParams,
    ResetDone, ResetParams, Response, SendParams, Sent,
};
use once_cell::sync::Lazy;
use serde_json::Value;
use websocket::{ConnectionHandle, Message, Phase, Stats, WebSocketCore};

use crate::call::Call;
use crate::Envelope;
use crate::Reply;
use crate::{error_code, Failure};
use crate::{Error, Result, SCOPE};

/// The public face over one [`WebSocketCore`]: typed calls that answer typed results, and
/// [`Gateway::execute`] that answers JSON envelopes.
///
/// The free functions (`gateway::websocket_request`, ...) use [`Gateway::global`], over the
/// per-process core; build your own over a core of your own to keep its registry, limits
/// and counters apart.
///
/// ```no_run
/// use std::sync::Arc;
/// use std::time::Duration;
/// use gateway::{Gateway, ManagerConfig, WebSocketCore};
///
/// let gateway = Gateway::new(Arc::new(WebSocketCore::new(ManagerConfig::default().max_connections(4))));
/// let call = gateway::Call::new().timeout(Duration::from_secs(5));
/// let reply = gateway.request("ws://127.0.0.1:8765", &serde_json::json!({"a": 1}), &call)?;
/// # Ok::<(), gateway::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Gateway {
    core: Arc<WebSocketCore>,
    /// Largest envelope [`Gateway::answer`] builds; larger is `MESSAGE_TOO_LARGE`.
    answer_limit: usize,
}

static GLOBAL: Lazy<Gateway> = Lazy::new(|| Gateway::new(Arc::clone(WebSocketCore::global())));

/// Where an operation's failure happened, for its details.
struct Context {
    url: Option<String>,
    connection: Option<ConnectionHandle>,
}

impl Gateway {
    /// A gateway over `core`.
    pub fn new(core: Arc<WebSocketCore>) -> Gateway {
        Gateway {
            core,
            answer_limit: usize::MAX,
        }
    }

    /// The same gateway, answering envelopes of at most `limit` bytes (a Lambda function's
    /// response limit); a larger answer is `MESSAGE_TOO_LARGE` and is never built whole.
    ///
    /// ```
    /// let g = gateway::Gateway::global().clone().with_answer_limit(6 << 20);
    /// assert_eq!(g.answer_limit(), 6 << 20);
    /// ```
    pub fn with_answer_limit(mut self, limit: usize) -> Gateway {
        self.answer_limit = limit;
        self
    }

    /// The largest envelope [`Gateway::answer`] builds.
    pub fn answer_limit(&self) -> usize {
        self.answer_limit
    }

    /// The gateway over the per-process core ([`WebSocketCore::global`]).
    pub fn global() -> &'static Gateway {
        &GLOBAL
    }

    /// The core this gateway works on.
    pub fn core(&self) -> &Arc<WebSocketCore> {
        &self.core
    }

    /// Runs one call under its correlation id — the caller's, else the id of the request
    /// this thread works for, else a new one — taken up once ([`CorrelationId::scope`]), so
    /// every line below is tagged with it; the call is timed once and its failure logged
    /// once, here.
    fn call<T>(
        &self,
        name: &'static str,
        given: Option<&CorrelationId>,
        body: impl FnOnce(&CorrelationId) -> Result<T>,
    ) -> (CorrelationId, Result<T>) {
        let cid = match given {
            Some(given) => given.clone(),
            None => debug::current().unwrap_or_else(CorrelationId::generate),
        };
        let _scope = cid.scope();
        let timer = Timer::start(&SCOPE, name);
        let result = body(&cid);
        timer.finish();
        match &result {
            Ok(_) => debug_line!(SCOPE, "{name} succeeded"),
            Err(e) => debug_line!(
                SCOPE,
                "{name} failed (error_code={}): {}",
                error_code(e),
                Failure::from(e).message
            ),
        }
        (cid, result)
    }

    /// Runs an operation of the JSON boundary (the enum) through [`interface::run`].
    fn dispatch(&self, operation: Operation) -> (CorrelationId, Result<Outcome>) {
        let name = public_name(&operation);
        let given = operation.correlation_id().cloned();
        self.call(name, given.as_ref(), |cid| {
            interface::run(&self.core, operation, cid)
        })
    }

    /// Runs a typed operation and answers with its envelope; errors carry the request's
    /// correlation id, and where they happened (URL, connection) in their details.
    ///
    /// ```
    /// let op = interface::Operation::from_params("get_stats", serde_json::Value::Null).unwrap();
    /// let e = gateway::Gateway::global().answer(op);
    /// assert!(e.is_success());
    /// ```
    pub fn answer(&self, operation: Operation) -> Envelope {
        let context = Context {
            url: operation.url().map(redact_url),
            connection: operation.connection().cloned(),
        };
        let (cid, result) = self.dispatch(operation);
        let failure = match result {
            Ok(outcome) => {
                match Envelope::success_within(outcome.summary(), &outcome, self.answer_limit) {
                    Ok(envelope) => return envelope,
                    Err(too_large) => too_large.with_detail("correlation_id", cid.as_str()),
                }
            }
            Err(e) => failure_in(&e, &context, &cid),
        };
        Envelope::failure(&failure)
    }

    /// Runs an operation given as an event's JSON text (`{"operation": ..., ...}`) and
    /// answers with its envelope; nothing but the operation is built from the text.
    ///
    /// ```
    /// let e = gateway::Gateway::global().answer_text(r#"{"operation": "get_stats"}"#);
    /// assert!(e.is_success());
    /// ```
    pub fn answer_text(&self, event: &str) -> Envelope {
        match Operation::from_event_text(event) {
            Ok(op) => self.answer(op),
            Err(e) => Envelope::failure(&Failure::from(&e)),
        }
    }

    /// Runs an operation given as JSON (`operation` and its `params` object) and answers
    /// with the envelope. Never fails: errors are envelopes too.
    ///
    /// ```
    /// let e = gateway::Gateway::global().execute("teleport", serde_json::json!({}));
    /// assert_eq!(e["error_code"], "UNKNOWN_OPERATION");
    /// ```
    pub fn execute(&self, operation: &str, params: Value) -> Value {
        match Operation::from_params(operation, params) {
            Ok(op) => self.answer(op).to_value(),
            Err(e) => crate::error_envelope(&Failure::from(&e)),
        }
    }

    /// Opens a connection to a `ws://` or `wss://` URL and registers it; the handle in the
    /// answer names it in later calls (and in later warm invocations).
    ///
    /// `call`: the timeout of the whole connect (default 10 s; the open timeout bounds it
    /// too), the correlation id (default: the current request's, or a new one) and the
    /// connection's options — headers (values are secrets: they reach no log line or
    /// envelope, also when a server reflects them), subprotocols (the answer's
    /// `subprotocol` is the one the server chose) and any setting of the core's
    /// [`ConnectionConfig`](websocket::ConnectionConfig) to override.
    ///
    /// ```no_run
    /// use gateway::{Call, ConnectOptions, Gateway};
    /// let options = ConnectOptions::default()
    ///     .header("Authorization", "Bearer sk-…")
    ///     .header("OpenAI-Beta", "realtime=v1")
    ///     .subprotocol("realtime");
    /// let call = Call::new().correlation_id("req-1").options(options);
    /// let c = Gateway::global().connect("wss://api.example.com/v1/realtime", &call)?;
    /// assert_eq!(c.subprotocol.as_deref(), Some("realtime"));
    /// assert_eq!(c.correlation_id, "req-1");
    /// # Ok::<(), gateway::Error>(())
    /// ```
    pub fn connect(&self, url: &str, call: &Call) -> Result<Connected> {
        call.options.check()?;
        let params = ConnectParams {
            url: url.to_owned(),
            timeout: call.timeout_or_default()?,
            options: call.options.clone(),
            correlation_id: call.checked_correlation_id()?,
        };
        let given = params.correlation_id.clone();
        self.call("websocket_connect", given.as_ref(), |cid| {
            interface::connect(&self.core, params, cid)
        })
        .1
    }

    /// Sends one JSON message (object or array) on an open connection, within the call's
    /// timeout (default: the timeout the connection was opened with).
    ///
    /// ```no_run
    /// use gateway::{Call, Gateway};
    /// Gateway::global().send("ws-1", &serde_json::json!({"type": "ping"}), &Call::new())?;
    /// # Ok::<(), gateway::Error>(())
    /// ```
    pub fn send(&self, connection: &str, message: &Value, call: &Call) -> Result<Sent> {
        self.send_payload(connection, Payload::Json(JsonMessage::new(message)?), call)
    }

    /// Sends one message of any kind (text or binary) on an open connection.
    ///
    /// ```no_run
    /// use gateway::{Call, Gateway, Message};
    /// Gateway::global().send_message("ws-1", Message::binary(vec![1, 2, 3]), &Call::new())?;
    /// # Ok::<(), gateway::Error>(())
    /// ```
    pub fn send_message(&self, connection: &str, message: Message, call: &Call) -> Result<Sent> {
        let payload = match message {
            Message::Text(text) => Payload::Text(text),
            Message::Binary(bytes) => Payload::Binary(bytes),
        };
        self.send_payload(connection, payload, call)
    }

    fn send_payload(&self, connection: &str, payload: Payload, call: &Call) -> Result<Sent> {
        let params = SendParams {
            connection: connection.into(),
            payload,
            timeout: call.checked_timeout()?,
            correlation_id: call.checked_correlation_id()?,
        };
        let given = params.correlation_id.clone();
        self.call("websocket_send", given.as_ref(), |cid| {
            interface::send(&self.core, params, cid)
        })
        .1
    }

    /// Waits up to the call's timeout (default 10 s) for the next JSON message on an open
    /// connection.
    ///
    /// ```no_run
    /// use gateway::{Call, Gateway};
    /// let call = Call::new().timeout(std::time::Duration::from_secs(5));
    /// let r = Gateway::global().receive("ws-1", &call)?;
    /// # Ok::<(), gateway::Error>(())
    /// ```
    pub fn receive(&self, connection: &str, call: &Call) -> Result<Received> {
        self.receive_as(connection, Expect::Json, call)
    }

    /// Waits up to the call's timeout (default 10 s) for the next message of any kind on an
    /// open connection.
    ///
    /// ```no_run
    /// use gateway::{Call, Content, Gateway};
    /// let r = Gateway::global().receive_message("ws-1", &Call::new())?;
    /// if let Content::Any(message) = r.content {
    ///     println!("a {} message of {} bytes", message.kind(), message.len());
    /// }
    /// # Ok::<(), gateway::Error>(())
    /// ```
    pub fn receive_message(&self, connection: &str, call: &Call) -> Result<Received> {
        self.receive_as(connection, Expect::Any, call)
    }

    fn receive_as(&self, connection: &str, expect: Expect, call: &Call) -> Result<Received> {
        let params = ReceiveParams {
            connection: connection.into(),
            expect,
            timeout: call.timeout_or_default()?,
            correlation_id: call.checked_correlation_id()?,
        };
        let given = params.correlation_id.clone();
        self.call("websocket_receive", given.as_ref(), |cid| {
            interface::receive(&self.core, params, cid)
        })
        .1
    }

    /// Closes an open connection; the closing handshake takes at most the connection's
    /// close timeout, or the call's timeout when one is given.
    ///
    /// ```no_run
    /// use gateway::{Call, Gateway};
    /// Gateway::global().close("ws-1", &Call::new())?;
    /// # Ok::<(), gateway::Error>(())
    /// ```
    pub fn close(&self, connection: &str, call: &Call) -> Result<Closed> {
        self.close_frame(connection, None, None, call)
    }

    /// Closes an open connection with a close frame of `code` and `reason`.
    ///
    /// ```no_run
    /// use gateway::{Call, Gateway};
    /// Gateway::global().close_with("ws-1", 4000, "done", &Call::new())?;
    /// # Ok::<(), gateway::Error>(())
    /// ```
    pub fn close_with(
        &self,
        connection: &str,
        code: u16,
        reason: &str,
        call: &Call,
    ) -> Result<Closed> {
        let code = CloseCode::new(code)?;
        let reason = CloseReason::new(reason)?;
        self.close_frame(connection, Some(code), Some(reason), call)
    }

    fn close_frame(
        &self,
        connection: &str,
        code: Option<CloseCode>,
        reason: Option<CloseReason>,
        call: &Call,
    ) -> Result<Closed> {
        let params = CloseParams {
            connection: connection.into(),
            code,
            reason,
            timeout: call.checked_timeout()?,
            correlation_id: call.checked_correlation_id()?,
        };
        let given = params.correlation_id.clone();
        self.call("websocket_close", given.as_ref(), |cid| {
            interface::close(&self.core, params, cid)
        })
        .1
    }

    /// Connects, sends `message`, waits for one reply and closes — all within the call's
    /// timeout (default 10 s), the connection opened with the call's options.
    ///
    /// ```no_run
    /// use gateway::{Call, Gateway};
    /// let call = Call::new().timeout(std::time::Duration::from_secs(5));
    /// let r = Gateway::global().request("ws://127.0.0.1:8765", &serde_json::json!({"type": "ping"}), &call)?;
    /// println!("{:?}", r.response());
    /// # Ok::<(), gateway::Error>(())
    /// ```
    pub fn request(&self, url: &str, message: &Value, call: &Call) -> Result<Response> {
        call.options.check()?;
        let params = RequestParams {
            url: url.to_owned(),
            payload: Payload::Json(JsonMessage::new(message)?),
            expect: Expect::Json,
            timeout: call.timeout_or_default()?,
            options: call.options.clone(),
            correlation_id: call.checked_correlation_id()?,
        };
        let given = params.correlation_id.clone();
        self.call("websocket_request", given.as_ref(), |cid| {
            interface::request(&self.core, params, cid)
        })
        .1
    }

    /// A held connection's state — open or broken, age, idle time, the latency of its last
    /// liveness check, reconnects — without running a check; the call's timeout (default
    /// 10 s) bounds waiting for another thread using it.
    ///
    /// ```no_run
    /// let info = gateway::Gateway::global().info("ws-1", &gateway::Call::new())?;
    /// println!("{} s idle, latency {:?} ms", info.info.idle_seconds, info.info.latency_ms);
    /// # Ok::<(), gateway::Error>(())
    /// ```
    pub fn info(&self, connection: &str, call: &Call) -> Result<Described> {
        let params = InfoParams {
            connection: connection.into(),
            timeout: call.timeout_or_default()?,
            correlation_id: call.checked_correlation_id()?,
        };
        let given = params.correlation_id.clone();
        self.call("websocket_info", given.as_ref(), |cid| {
            interface::info(&self.core, params, cid)
        })
        .1
    }

    /// The core's counters; `CONFIG_INVALID` when its configuration is malformed.
    ///
    /// ```
    /// assert_eq!(gateway::Gateway::global().get_stats().unwrap().max_rate_limit, 300);
    /// ```
    pub fn get_stats(&self) -> Result<Stats> {
        self.core.check_config()?;
        Ok(self.core.stats())
    }

    /// Zeroes the counters, empties the rate window and closes every open connection, the
    /// closing handshakes bounded by the close timeout or the call's timeout when shorter.
    ///
    /// ```
    /// let done = gateway::Gateway::global().reset(&gateway::Call::new()).unwrap();
    /// assert_eq!(done.correlation_id.len(), 13);
    /// ```
    pub fn reset(&self, call: &Call) -> Result<ResetDone> {
        let params = ResetParams {
            timeout: call.checked_timeout()?,
            correlation_id: call.checked_correlation_id()?,
        };
        let given = params.correlation_id.clone();
        self.call("websocket_reset", given.as_ref(), |cid| {
            interface::reset(&self.core, params, cid)
        })
        .1
    }
}

/// The name of the public call an operation stands for, for debug and timing lines.
fn public_name(operation: &Operation) -> &'static str {
    match operation {
        Operation::Connect(_) => "websocket_connect",
        Operation::Send(_) => "websocket_send",
        Operation::Receive(_) => "websocket_receive",
        Operation::Close(_) => "websocket_close",
        Operation::Request(_) => "websocket_request",
        Operation::Info(_) => "websocket_info",
        Operation::GetStats(_) => "websocket_get_stats",
        Operation::Reset(_) => "websocket_reset",
    }
}

/// The failure of an operation, with the correlation id and where it happened.
fn failure_in(e: &Error, context: &Context, cid: &CorrelationId) -> Failure {
    let mut failure = Failure::from(e);
    if let Error::Websocket(w) = e {
        if let (Some(url), true) = (&context.url, w.phase().is_some_and(Phase::is_opening)) {
            failure = failure.with_detail("url", url.as_str());
        }
    }
    if let Some(handle) = &context.connection {
        if on_the_connection(e) {
            failure = failure.with_detail("connection", handle.as_str());
        }
    }
    failure.with_detail("correlation_id", cid.as_str())
}

/// Whether an error happened on the named connection (rather than before reaching it).
fn on_the_connection(e: &Error) -> bool {
    use websocket::Error as W;
    match e {
        Error::Websocket(w) => {
            w.breaks_connection() || matches!(w, W::Timeout { .. } | W::NoConnection { .. })
        }
        Error::NotJson { .. } | Error::UnexpectedBinary { .. } | Error::UnexpectedText { .. } => {
            true
        }
        _ => false,
    }
}
