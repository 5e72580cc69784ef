//! Running a typed operation on a core: the message kinds at the JSON boundary (what is
//! sent, what the reply is expected to be) and the typed result.

use debug::{debug_line, message_keys, redact_url, CorrelationId};
use serde_json::value::RawValue;
use websocket::{CloseFrame, Message, WebSocketCore};

use crate::content::{Content, Payload};
use crate::error::{Error, Result};
use crate::operation::{
    CloseParams, ConnectParams, InfoParams, Operation, ReceiveParams, RequestParams, ResetParams,
    SendParams,
};
use crate::outcome::{Closed, Connected, Described, Outcome, Received, ResetDone, Response, Sent};
use crate::SCOPE;

/// Characters read past the preview so a secret it would cut is redacted whole.
const PREVIEW_SLACK: usize = 512;

/// Longest preview of a non-JSON reply quoted in an error.
const PREVIEW_CHARS: usize = 80;

/// Runs `operation` on `core`; `correlation_id` is the request's, for the result.
///
/// ```no_run
/// use interface::{run, Operation};
/// let core = websocket::WebSocketCore::global();
/// let op = Operation::from_event(serde_json::json!({"operation": "get_stats"}))?;
/// let outcome = run(core, op, &debug::CorrelationId::generate())?;
/// # Ok::<(), interface::Error>(())
/// ```
pub fn run(
    core: &WebSocketCore,
    operation: Operation,
    correlation_id: &CorrelationId,
) -> Result<Outcome> {
    match operation {
        Operation::Connect(p) => connect(core, p, correlation_id).map(Outcome::Connected),
        Operation::Send(p) => send(core, p, correlation_id).map(Outcome::Sent),
        Operation::Receive(p) => receive(core, p, correlation_id).map(Outcome::Received),
        Operation::Close(p) => close(core, p, correlation_id).map(Outcome::Closed),
        Operation::Request(p) => request(core, p, correlation_id).map(Outcome::Response),
        Operation::Info(p) => info(core, p, correlation_id).map(Outcome::Info),
        Operation::GetStats(_) => {
            core.check_config()?;
            Ok(Outcome::Stats(core.stats()))
        }
        Operation::Reset(p) => reset(core, p, correlation_id).map(Outcome::Reset),
    }
}

/// Opens and registers a connection (the typed `connect`; [`run`] for the enum).
///
/// ```no_run
/// use interface::{connect, ConnectParams, Timeout};
/// let params = ConnectParams { url: "ws://127.0.0.1:8765".into(), timeout: Timeout::default(),
///     options: Default::default(), correlation_id: None };
/// let c = connect(websocket::WebSocketCore::global(), params, &debug::CorrelationId::generate())?;
/// # Ok::<(), interface::Error>(())
/// ```
pub fn connect(
    core: &WebSocketCore,
    params: ConnectParams,
    correlation_id: &CorrelationId,
) -> Result<Connected> {
    let opened = core.connect_with(&params.url, params.timeout.get(), &params.options)?;
    Ok(Connected {
        connection: opened.handle,
        correlation_id: correlation_id.as_str().to_owned(),
        url: redact_url(&params.url),
        subprotocol: opened.subprotocol,
        tls_insecure: opened.tls_insecure,
    })
}

/// Sends one message on a registered connection.
pub fn send(
    core: &WebSocketCore,
    params: SendParams,
    correlation_id: &CorrelationId,
) -> Result<Sent> {
    let SendParams {
        connection,
        payload,
        timeout,
        ..
    } = params;
    log_payload("send", &payload);
    core.send(
        connection.as_str(),
        payload.into_message(),
        timeout.map(|t| t.get()),
    )?;
    Ok(Sent {
        connection,
        correlation_id: correlation_id.as_str().to_owned(),
    })
}

/// Receives the next message of a registered connection, as the caller expects it.
pub fn receive(
    core: &WebSocketCore,
    params: ReceiveParams,
    correlation_id: &CorrelationId,
) -> Result<Received> {
    let ReceiveParams {
        connection,
        expect,
        timeout,
        ..
    } = params;
    let message = core.receive(connection.as_str(), timeout.get())?;
    let content = Content::expect(message, expect)?;
    log_content("receive", &content);
    Ok(Received {
        content,
        connection,
        correlation_id: correlation_id.as_str().to_owned(),
    })
}

/// Closes a registered connection, with a close frame when a code or reason is given.
pub fn close(
    core: &WebSocketCore,
    params: CloseParams,
    correlation_id: &CorrelationId,
) -> Result<Closed> {
    let CloseParams {
        connection,
        code,
        reason,
        timeout,
        ..
    } = params;
    let frame = (code.is_some() || reason.is_some()).then(|| {
        CloseFrame::new(
            code.map_or(1000, |c| c.get()),
            reason.map(|r| r.as_str().to_owned()).unwrap_or_default(),
        )
    });
    core.close(connection.as_str(), frame, timeout.map(|t| t.get()))?;
    Ok(Closed {
        connection,
        correlation_id: correlation_id.as_str().to_owned(),
    })
}

/// One exchange: connect, send, receive one reply (as the caller expects it), close.
pub fn request(
    core: &WebSocketCore,
    params: RequestParams,
    correlation_id: &CorrelationId,
) -> Result<Response> {
    let RequestParams {
        url,
        payload,
        expect,
        timeout,
        options,
        ..
    } = params;
    log_payload("request", &payload);
    let tls_insecure = url
        .trim_start()
        .get(..4)
        .is_some_and(|s| s.eq_ignore_ascii_case("wss:"))
        && core.tls_insecure();
    let reply = core.request_with(&url, payload.into_message(), timeout.get(), &options)?;
    let content = Content::expect(reply, expect)?;
    log_content("request", &content);
    Ok(Response {
        content,
        correlation_id: correlation_id.as_str().to_owned(),
        url: redact_url(&url),
        tls_insecure,
    })
}

/// Describes a registered connection (no liveness check is run).
pub fn info(
    core: &WebSocketCore,
    params: InfoParams,
    correlation_id: &CorrelationId,
) -> Result<Described> {
    let info = core.info(params.connection.as_str(), params.timeout.get())?;
    Ok(Described {
        connection: params.connection,
        correlation_id: correlation_id.as_str().to_owned(),
        info,
    })
}

/// Zeroes the counters and closes every connection of the core.
pub fn reset(
    core: &WebSocketCore,
    params: ResetParams,
    correlation_id: &CorrelationId,
) -> Result<ResetDone> {
    core.check_config()?;
    core.reset(params.timeout.map(|t| t.get()));
    Ok(ResetDone {
        correlation_id: correlation_id.as_str().to_owned(),
    })
}

/// What was sent, by keys for JSON (never values).
fn log_payload(operation: &str, payload: &Payload) {
    if let Some(json) = payload.json() {
        debug_line!(
            SCOPE,
            "Operation {operation} (message_keys={})",
            message_keys(json.as_str())
        );
    }
}

/// What came back, by keys for JSON (never values).
fn log_content(operation: &str, content: &Content) {
    if let Some(json) = content.json() {
        debug_line!(
            SCOPE,
            "Operation {operation} answered (message_keys={})",
            message_keys(json.get())
        );
    }
}

/// A text frame checked as JSON and kept as its text (no tree is built); anything else is
/// an error that says what arrived.
///
/// ```
/// let raw = interface::decode(websocket::Message::text(r#"{"a":1}"#)).unwrap();
/// assert_eq!(raw.get(), r#"{"a":1}"#);
/// assert!(interface::decode(websocket::Message::binary(vec![1])).is_err());
/// ```
pub fn decode(message: Message) -> Result<Box<RawValue>> {
    match message {
        Message::Text(text) => {
            // Checked in one pass that keeps the text's buffer; the start is copied first,
            // since the text is gone when the check fails. It is longer than the preview so a
            // reflected secret the preview would cut is still found whole and redacted.
            let start: String = text.chars().take(PREVIEW_CHARS + PREVIEW_SLACK).collect();
            let length = text.len();
            RawValue::from_string(text).map_err(|source| Error::NotJson {
                preview: debug::redact(&start)
                    .chars()
                    .take(PREVIEW_CHARS)
                    .collect::<String>()
                    .into(),
                length,
                source,
            })
        }
        Message::Binary(bytes) => Err(Error::UnexpectedBinary {
            length: bytes.len(),
            expected: "JSON text frame",
        }),
    }
}
