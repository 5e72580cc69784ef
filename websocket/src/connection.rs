//! One open WebSocket: send, receive and close, each bounded by a deadline.

use std::time::{Duration, Instant};

use serde_json::Value;
use tungstenite::{Message, WebSocket};

use crate::error::{Error, ErrorCode, Phase, Result};
use crate::stream::{is_disconnect, is_timeout, Stream};

/// Longest preview of a non-JSON reply quoted in an error.
const PREVIEW_CHARS: usize = 80;

/// An open connection and what it was opened with.
#[derive(Debug)]
pub(crate) struct Connection {
    ws: WebSocket<Stream>,
    /// The URL without credentials, for logs and errors.
    pub(crate) url: String,
}

impl Connection {
    pub(crate) fn new(ws: WebSocket<Stream>, url: String) -> Self {
        Connection { ws, url }
    }

    /// Writes one text frame and flushes it by `deadline`; a timeout reports `timeout`, the
    /// operation's whole budget.
    pub(crate) fn send_text(
        &mut self,
        text: String,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<()> {
        self.ws.get_mut().set_deadline(deadline);
        self.ws
            .send(Message::text(text))
            .map_err(|e| io_error(e, Phase::Send, timeout))
    }

    /// Waits until `deadline` for the next data frame and parses it as JSON. Pings are
    /// answered on the way. A timeout reports `timeout`, the operation's whole budget.
    pub(crate) fn receive_json(&mut self, deadline: Instant, timeout: Duration) -> Result<Value> {
        self.ws.get_mut().set_deadline(deadline);
        loop {
            let message = self
                .ws
                .read()
                .map_err(|e| io_error(e, Phase::Receive, timeout))?;
            match message {
                Message::Text(text) => return parse_json(text.as_str()),
                Message::Binary(bytes) => {
                    return Err(Error::new(
                        ErrorCode::WebsocketParseFailed,
                        "Received a binary frame where a JSON text frame was expected.",
                    )
                    .with_detail("frame", "binary")
                    .with_detail("length", bytes.len()))
                }
                Message::Close(frame) => {
                    let mut err = closed_error();
                    if let Some(frame) = frame {
                        err = err.with_detail("close_code", u16::from(frame.code));
                    }
                    return Err(err);
                }
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
            }
        }
    }

    /// The closing handshake: send a Close frame and wait for the server's, within `timeout`.
    /// Errors are not reported: the connection is gone either way.
    pub(crate) fn close(mut self, timeout: Duration) {
        if timeout.is_zero() {
            return;
        }
        self.ws.get_mut().set_deadline(Instant::now() + timeout);
        if self.ws.close(None).is_err() {
            return;
        }
        // Drain until the server's Close arrives or the deadline passes; bounded by the deadline.
        while self.ws.read().is_ok() {}
    }
}

fn parse_json(text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| {
        let preview: String = text.chars().take(PREVIEW_CHARS).collect();
        Error::new(
            ErrorCode::WebsocketParseFailed,
            format!("The server sent a text frame that is not JSON: {e}."),
        )
        .with_detail("preview", preview)
        .with_detail("length", text.len())
    })
}

fn closed_error() -> Error {
    Error::new(
        ErrorCode::WebsocketConnectionClosed,
        "The server closed the connection.",
    )
}

/// Maps a tungstenite error during `phase` onto the closed set of codes.
pub(crate) fn io_error(e: tungstenite::Error, phase: Phase, timeout: Duration) -> Error {
    use tungstenite::error::ProtocolError;
    use tungstenite::Error as T;
    let failed = if phase == Phase::Send {
        ErrorCode::WebsocketSendFailed
    } else {
        ErrorCode::WebsocketReceiveFailed
    };
    match e {
        T::Io(io) if is_timeout(&io) => Error::timeout(phase, timeout),
        T::Io(io) if is_disconnect(&io) => closed_error().with_detail("reason", io.to_string()),
        T::ConnectionClosed | T::AlreadyClosed => closed_error(),
        T::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            closed_error().with_detail("reason", "closed without a closing handshake")
        }
        T::Capacity(c) => Error::new(
            ErrorCode::MessageTooLarge,
            format!("The message exceeds the size limit: {c}."),
        ),
        T::WriteBufferFull(_) => Error::new(
            ErrorCode::MessageTooLarge,
            "The message does not fit the write buffer.",
        ),
        other => Error::new(
            failed,
            format!("The WebSocket {} failed: {other}.", phase.as_str()),
        ),
    }
    .with_detail("phase", phase.as_str())
}
