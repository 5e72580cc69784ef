//! Running a typed operation on a core: the JSON side of each operation (encoding the
//! message sent, decoding the reply) and its typed result.

use debug::{debug_line, message_keys, redact_url, CorrelationId};
use serde_json::Value;
use websocket::{Message, WebSocketCore};

use crate::error::{Error, Result};
use crate::operation::{
    CloseParams, ConnectParams, Operation, ReceiveParams, RequestParams, ResetParams, SendParams,
};
use crate::outcome::{Closed, Connected, Outcome, Received, ResetDone, Response, Sent};
use crate::params::JsonMessage;
use crate::SCOPE;

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
    let cid = || correlation_id.as_str().to_owned();
    match operation {
        Operation::Connect(ConnectParams { url, timeout, .. }) => {
            let connection = core.connect(&url, timeout.get())?;
            Ok(Outcome::Connected(Connected {
                connection,
                correlation_id: cid(),
                url: redact_url(&url),
            }))
        }
        Operation::Send(SendParams {
            connection,
            message,
            timeout,
            ..
        }) => {
            debug_line!(
                SCOPE,
                "Operation send (message_keys={})",
                message_keys(message.get())
            );
            core.send(
                connection.as_str(),
                encode(&message),
                timeout.map(|t| t.get()),
            )?;
            Ok(Outcome::Sent(Sent {
                connection,
                correlation_id: cid(),
            }))
        }
        Operation::Receive(ReceiveParams {
            connection,
            timeout,
            ..
        }) => {
            let message = decode(core.receive(connection.as_str(), timeout.get())?)?;
            debug_line!(
                SCOPE,
                "Operation receive answered (message_keys={})",
                message_keys(&message)
            );
            Ok(Outcome::Received(Received {
                message,
                connection,
                correlation_id: cid(),
            }))
        }
        Operation::Close(CloseParams {
            connection,
            timeout,
            ..
        }) => {
            core.close(connection.as_str(), timeout.map(|t| t.get()))?;
            Ok(Outcome::Closed(Closed {
                connection,
                correlation_id: cid(),
            }))
        }
        Operation::Request(RequestParams {
            url,
            message,
            timeout,
            ..
        }) => {
            debug_line!(
                SCOPE,
                "Operation request (message_keys={})",
                message_keys(message.get())
            );
            let reply = decode(core.request(&url, encode(&message), timeout.get())?)?;
            debug_line!(
                SCOPE,
                "Operation request answered (message_keys={})",
                message_keys(&reply)
            );
            Ok(Outcome::Response(Response {
                response: reply,
                correlation_id: cid(),
                url: redact_url(&url),
            }))
        }
        Operation::GetStats(_) => Ok(Outcome::Stats(core.stats())),
        Operation::Reset(ResetParams { timeout, .. }) => {
            core.reset(timeout.map(|t| t.get()));
            Ok(Outcome::Reset(ResetDone {
                correlation_id: cid(),
            }))
        }
    }
}

/// A JSON message as one text frame.
pub fn encode(message: &JsonMessage) -> Message {
    Message::Text(message.get().to_string())
}

/// A text frame parsed as JSON; anything else is an error that says what arrived.
///
/// ```
/// let v = interface::decode(websocket::Message::text(r#"{"a":1}"#)).unwrap();
/// assert_eq!(v["a"], 1);
/// assert!(interface::decode(websocket::Message::binary(vec![1])).is_err());
/// ```
pub fn decode(message: Message) -> Result<Value> {
    match message {
        Message::Text(text) => serde_json::from_str(&text).map_err(|source| {
            let preview: String = text.chars().take(PREVIEW_CHARS).collect();
            Error::NotJson {
                preview: preview.into(),
                length: text.len(),
                source,
            }
        }),
        Message::Binary(bytes) => Err(Error::UnexpectedBinary {
            length: bytes.len(),
        }),
    }
}
