//! One open WebSocket: send, receive and close, each bounded by a deadline.

use std::time::{Duration, Instant};

use tungstenite::error::ProtocolError;
use tungstenite::protocol::Role;
use tungstenite::WebSocket;

use contract::Deadline;
use debug::SecretGuard;

use crate::error::{Error, Phase, Result};
use crate::held::HeldBytes;
use crate::message::{text_of, CloseFrame, Message};
use crate::stream::{is_disconnect, is_timeout, HeldBudgetSpent, Stream, READ_AHEAD};

/// An open connection, owned by whoever opened it: the registry of a
/// [`WebSocketCore`](crate::WebSocketCore), or a caller of
/// [`WebSocketCore::open`](crate::WebSocketCore::open).
///
/// After a protocol, capacity or I/O error the connection is *broken*: it is never read
/// again (tungstenite's codec is not meant to be read after such an error), and closing it
/// only drops the socket. A send that fails for any reason — a timeout included — breaks
/// it too: tungstenite keeps the rest of the frame queued and would finish writing it on
/// the next write, delivering a message its caller was told had failed.
///
/// What it reads and has not delivered yet — a partial frame, a fragmented message, what a
/// timed-out receive left half read — is charged to the process's [`HeldBytes`] budget; a
/// connection whose next read would pass it is dropped.
///
/// After a message larger than tungstenite's read buffer, the codec is replaced by a fresh
/// one over the same stream when nothing else is buffered: tungstenite's buffer grows to
/// the largest frame and keeps that memory for the connection's life otherwise (64 idle
/// connections that once received 6 MB each held 412 MB).
#[derive(Debug)]
pub struct Connection {
    /// `None` only while the codec is being replaced.
    ws: Option<WebSocket<Stream>>,
    /// The URL without credentials, for logs.
    url: String,
    broken: bool,
    /// The URL's credentials and query values, registered while the connection lives so a
    /// server reflecting them is redacted — in its text messages too.
    secrets: Vec<SecretGuard>,
    /// The subprotocol the server chose.
    subprotocol: Option<String>,
    /// What it was opened with that it keeps using.
    settings: Settings,
}

/// The settings a connection keeps from the [`ConnectionConfig`](crate::ConnectionConfig)
/// it was opened with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Settings {
    pub close_timeout: Duration,
    pub max_message_size: usize,
    pub ping_interval: Option<Duration>,
    pub ping_timeout: Duration,
    pub max_queue_size: usize,
    pub reconnect: crate::Reconnect,
    /// A `wss://` connection whose certificate was not verified.
    pub tls_insecure: bool,
}

impl Settings {
    pub(crate) fn of(config: &crate::ConnectionConfig, tls: bool) -> Settings {
        Settings {
            close_timeout: config.close_timeout,
            max_message_size: config.max_message_size,
            ping_interval: config.ping_interval,
            ping_timeout: config.ping_timeout,
            max_queue_size: config.max_queue_size,
            reconnect: config.reconnect,
            tls_insecure: tls && config.tls_insecure,
        }
    }
}

impl Connection {
    pub(crate) fn new(
        ws: WebSocket<Stream>,
        url: String,
        secrets: Vec<SecretGuard>,
        subprotocol: Option<String>,
        settings: Settings,
    ) -> Self {
        Connection {
            ws: Some(ws),
            url,
            broken: false,
            secrets,
            subprotocol,
            settings,
        }
    }

    /// The largest message it sends or receives, in bytes.
    pub fn max_message_size(&self) -> usize {
        self.settings.max_message_size
    }

    /// The bound on its closing handshake.
    pub fn close_timeout(&self) -> Duration {
        self.settings.close_timeout
    }

    /// Whether it is a `wss://` connection whose certificate was not verified
    /// (`WS_TLS_INSECURE`).
    pub fn tls_insecure(&self) -> bool {
        self.settings.tls_insecure
    }

    /// The URL it was opened with, without credentials, query or fragment.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The subprotocol the server chose in the handshake, if one was offered.
    pub fn subprotocol(&self) -> Option<&str> {
        self.subprotocol.as_deref()
    }

    /// Whether an earlier error made the connection unusable.
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// The socket, or `Broken` when an error broke the connection.
    fn socket(&mut self) -> Result<&mut WebSocket<Stream>> {
        match (&mut self.ws, self.broken) {
            (Some(ws), false) => Ok(ws),
            _ => Err(Error::Broken),
        }
    }

    fn note<T>(&mut self, result: Result<T>) -> Result<T> {
        if let Err(e) = &result {
            if e.breaks_connection() {
                self.broken = true;
            }
        }
        if self.broken {
            // Dropped, never read again: nothing of it is held any more.
            if let Some(ws) = &mut self.ws {
                ws.get_mut().release();
            }
        }
        result
    }

    /// Writes one message and flushes it by `deadline`; a timeout reports the deadline's
    /// budget, the operation's whole. Any failure breaks the connection: the message was not
    /// delivered, and no later write can complete it.
    pub fn send(&mut self, message: Message, deadline: &Deadline) -> Result<()> {
        let ws = self.socket()?;
        ws.get_mut().set_deadline(deadline.at());
        let result = ws
            .send(message.into_frame())
            .map_err(|e| socket_error(e, Phase::Send, deadline.budget(), 0));
        if result.is_err() {
            self.broken = true;
        }
        self.note(result)
    }

    /// Waits until `deadline` for the next data message. Pings are answered on the way. A
    /// timeout reports the deadline's budget, the operation's whole; a message only partly read
    /// when it fired is kept and completed by the next receive. A read that would pass the
    /// process's [`HeldBytes`] budget drops the connection ([`Error::HeldBytesExceeded`]).
    pub fn receive(&mut self, deadline: &Deadline) -> Result<Message> {
        self.socket()?.get_mut().set_deadline(deadline.at());
        let result = self.read_data(deadline.budget());
        self.note(result)
    }

    fn read_data(&mut self, timeout: Duration) -> Result<Message> {
        loop {
            let ws = self.socket()?;
            let frame = match ws.read() {
                Ok(frame) => frame,
                Err(e) => {
                    let held = ws.get_ref().pending();
                    return Err(socket_error(e, Phase::Receive, timeout, held));
                }
            };
            let wire = frame.len().saturating_add(frame_header_len(frame.len()));
            let data = matches!(
                frame,
                tungstenite::Message::Text(_) | tungstenite::Message::Binary(_)
            );
            ws.get_mut().delivered(wire, data);
            if data && wire > READ_AHEAD {
                self.shed_read_buffer();
            }
            match frame {
                tungstenite::Message::Text(text) => {
                    return Ok(Message::Text(self.without_secrets(text_of(text))))
                }
                tungstenite::Message::Binary(bytes) => return Ok(Message::Binary(bytes.into())),
                tungstenite::Message::Close(frame) => {
                    // tungstenite queued the closing reply; send it before the socket goes.
                    let _ = self.socket()?.flush();
                    return Err(closed_by_peer(frame));
                }
                tungstenite::Message::Ping(_)
                | tungstenite::Message::Pong(_)
                | tungstenite::Message::Frame(_) => continue,
            }
        }
    }

    /// Replaces the codec by a fresh one over the same stream, so the read buffer a large
    /// message grew is freed. Only when tungstenite holds nothing unread (the bytes read
    /// match those delivered exactly) and nothing unwritten (queued pongs are flushed first,
    /// within the operation's deadline); otherwise the codec stays.
    fn shed_read_buffer(&mut self) {
        let Some(mut ws) = self.ws.take() else {
            return;
        };
        if ws.get_ref().pending() != 0 || ws.flush().is_err() {
            self.ws = Some(ws);
            return;
        }
        let config = *ws.get_config();
        let stream = ws.into_inner();
        self.ws = Some(WebSocket::from_raw_socket(
            stream,
            Role::Client,
            Some(config),
        ));
    }

    /// `text` with this connection's URL secrets taken out: a server echoing its URL's
    /// `?token=` back in a message does not put it into an envelope. Free when the URL has
    /// none; one search per secret otherwise.
    fn without_secrets(&self, text: String) -> String {
        let mut text = text;
        for secret in &self.secrets {
            if let std::borrow::Cow::Owned(clean) = secret.redact_in(&text) {
                text = clean;
            }
        }
        text
    }

    /// The closing handshake: send a Close frame (`frame`, or a plain one) and wait for the
    /// server's, within `timeout`. A broken connection, or a zero timeout, just drops the
    /// socket. Errors are not reported: the connection is gone either way.
    pub fn close(mut self, timeout: Duration, frame: Option<CloseFrame>) {
        if timeout.is_zero() {
            return;
        }
        let Ok(ws) = self.socket() else {
            return;
        };
        ws.get_mut().set_deadline(Instant::now() + timeout);
        if ws.close(frame.map(CloseFrame::into_frame)).is_err() {
            return;
        }
        // Drain until the server's Close arrives or the deadline passes; any error ends it.
        while ws.read().is_ok() {}
    }
}

/// The header of a server's (unmasked) frame carrying `len` bytes.
fn frame_header_len(len: usize) -> usize {
    match len {
        0..=125 => 2,
        126..=0xffff => 4,
        _ => 10,
    }
}

/// What a close frame from the server means for the caller.
///
/// tungstenite replaces a close code the protocol does not allow (RFC 6455 §7.4) by 1002
/// with the reason "Protocol violation" before handing the frame over, so that signature
/// is reported as the violation it stands for.
fn closed_by_peer(frame: Option<tungstenite::protocol::CloseFrame>) -> Error {
    use tungstenite::protocol::frame::coding::CloseCode;
    match frame {
        Some(f) if f.code == CloseCode::Protocol && f.reason.as_str() == "Protocol violation" => {
            Error::InvalidCloseCode
        }
        Some(f) => Error::ConnectionClosed {
            code: Some(u16::from(f.code)),
            // The server's words: a reflected secret is redacted.
            reason: (!f.reason.is_empty()).then(|| debug::redact(f.reason.as_str()).into()),
            phase: None,
        },
        None => Error::ConnectionClosed {
            code: None,
            reason: None,
            phase: None,
        },
    }
}

/// Maps a tungstenite error during `phase` onto what it means for the caller; `held` is
/// what the connection held when it failed.
pub(crate) fn socket_error(
    e: tungstenite::Error,
    phase: Phase,
    timeout: Duration,
    held: usize,
) -> Error {
    use tungstenite::Error as T;
    match e {
        T::Io(io)
            if io
                .get_ref()
                .is_some_and(|inner| inner.is::<HeldBudgetSpent>()) =>
        {
            Error::HeldBytesExceeded {
                held,
                limit: HeldBytes::limit(),
            }
        }
        T::Io(io) if is_timeout(&io) => Error::Timeout {
            phase,
            after: timeout,
        },
        T::Io(io) if is_disconnect(&io) => Error::ConnectionClosed {
            code: None,
            reason: Some(io.to_string().into()),
            phase: Some(phase),
        },
        T::ConnectionClosed | T::AlreadyClosed => Error::ConnectionClosed {
            code: None,
            reason: None,
            phase: Some(phase),
        },
        T::Protocol(ProtocolError::ResetWithoutClosingHandshake) => Error::ConnectionClosed {
            code: None,
            reason: Some("closed without a closing handshake".into()),
            phase: Some(phase),
        },
        T::Capacity(tungstenite::error::CapacityError::MessageTooLong { size, max_size }) => {
            Error::MessageTooLarge {
                size: Some(size),
                limit: max_size,
                phase,
            }
        }
        other => Error::Protocol {
            phase,
            source: Box::new(other),
        },
    }
}
