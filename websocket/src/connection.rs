//! One open WebSocket: send, receive and close, each bounded by a deadline.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tungstenite::error::ProtocolError;
use tungstenite::protocol::Role;
use tungstenite::WebSocket;

use contract::Deadline;
use debug::SecretGuard;

use crate::error::{Error, Phase, Result};
use crate::held::{HeldBytes, HeldCharge};
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
    /// When it was opened (the first time, across reconnects).
    opened_at: Instant,
    /// When anything last went through it: a frame read, a message written.
    last_traffic: Instant,
    /// The round trip its last liveness check measured.
    latency: Option<Duration>,
    /// Data messages a liveness check read ahead of its pong, for the next receives.
    queue: VecDeque<Message>,
    /// Their bytes, charged to the process's budget.
    queued: HeldCharge,
    /// What it needs to be opened again, when a registry holds it.
    origin: Option<Arc<Origin>>,
    /// Times it was opened again after a liveness check found it dead.
    reconnects: u64,
}

/// Where a registered connection came from: enough to open it again (the URL as given, its
/// credentials included, and the settings it was opened with).
pub(crate) struct Origin {
    pub url: String,
    pub settings: crate::ConnectionConfig,
}

impl std::fmt::Debug for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Origin")
            .field("url", &debug::redact_url(&self.url))
            .finish()
    }
}

/// A held connection's state, as the `info` operation reports it.
///
/// ```
/// let info = websocket::ConnectionInfo::default();
/// assert_eq!(info.state, "");
/// ```
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ConnectionInfo {
    /// `open`, or `broken` after an error that ended it.
    pub state: &'static str,
    /// The URL without credentials, query or fragment.
    pub url: String,
    /// The subprotocol the server chose.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subprotocol: Option<String>,
    /// Seconds since it was first opened.
    pub age_seconds: f64,
    /// Seconds since anything last went through it.
    pub idle_seconds: f64,
    /// The round trip of its last liveness check, in milliseconds (absent before one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// Times it was opened again after being found dead.
    pub reconnects: u64,
    /// Messages read ahead by a liveness check, waiting for a receive.
    pub queued_messages: usize,
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
        let now = Instant::now();
        Connection {
            ws: Some(ws),
            url,
            broken: false,
            secrets,
            subprotocol,
            settings,
            opened_at: now,
            last_traffic: now,
            latency: None,
            queue: VecDeque::new(),
            queued: HeldCharge::default(),
            origin: None,
            reconnects: 0,
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
        } else {
            self.last_traffic = Instant::now();
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

    /// The same connection, able to be opened again from `origin`.
    pub(crate) fn with_origin(mut self, origin: Arc<Origin>) -> Self {
        self.origin = Some(origin);
        self
    }

    /// The connection `self` replaces after a reconnect: its age and count carry on.
    pub(crate) fn succeeding(mut self, dead: &Connection) -> Self {
        self.opened_at = dead.opened_at;
        self.reconnects = dead.reconnects + 1;
        self.origin = dead.origin.clone();
        self
    }

    pub(crate) fn origin(&self) -> Option<&Arc<Origin>> {
        self.origin.as_ref()
    }

    /// The reconnect policy it was opened with.
    pub fn reconnect_policy(&self) -> crate::Reconnect {
        self.settings.reconnect
    }

    /// The bound on a liveness check: the ping timeout.
    pub fn ping_timeout(&self) -> Duration {
        self.settings.ping_timeout
    }

    /// Time since anything last went through it.
    pub fn idle(&self) -> Duration {
        self.last_traffic.elapsed()
    }

    /// The round trip its last liveness check measured.
    pub fn latency(&self) -> Option<Duration> {
        self.latency
    }

    /// Whether its next use must first check it is alive: it has been idle longer than the
    /// ping interval (a pause: a frozen Lambda, a NAT that forgot it), and nothing read
    /// ahead is waiting.
    pub fn needs_check(&self) -> bool {
        !self.broken
            && self.queue.is_empty()
            && self
                .settings
                .ping_interval
                .is_some_and(|interval| self.idle() >= interval)
    }

    /// Its state for the `info` operation.
    pub fn info(&self) -> ConnectionInfo {
        ConnectionInfo {
            state: if self.broken { "broken" } else { "open" },
            url: self.url.clone(),
            subprotocol: self.subprotocol.clone(),
            age_seconds: self.opened_at.elapsed().as_secs_f64(),
            idle_seconds: self.idle().as_secs_f64(),
            latency_ms: self.latency.map(|l| l.as_secs_f64() * 1000.0),
            reconnects: self.reconnects,
            queued_messages: self.queue.len(),
        }
    }

    /// A liveness check: a WebSocket ping with a fresh payload, and its pong awaited until
    /// `deadline`; answers the round trip. Data messages that arrive first prove the peer
    /// alive too and are kept, in order, for the next receives: after `max_queue_size` of
    /// them (or when the held-bytes budget is spent) the check ends there, alive, without a
    /// latency — nothing read is ever dropped. No frame at all in time — a black hole, a
    /// peer that stopped answering — is [`Error::ConnectionDead`]; a failure leaves the
    /// connection broken.
    pub fn check_alive(&mut self, deadline: &Deadline) -> Result<Option<Duration>> {
        let result = self.ping_pong(deadline);
        if result.is_err() {
            self.broken = true;
        }
        self.note(result)
    }

    fn ping_pong(&mut self, deadline: &Deadline) -> Result<Option<Duration>> {
        let nonce = fastrand::u64(..).to_be_bytes();
        let started = Instant::now();
        let ws = self.socket()?;
        ws.get_mut().set_deadline(deadline.at());
        ws.send(tungstenite::Message::Ping(nonce.to_vec().into()))
            .map_err(|e| dead_or(socket_error(e, Phase::Ping, deadline.budget(), 0)))?;
        // Bounded: every pass reads one frame or ends, and reads end at the deadline.
        loop {
            let frame = match self.read_frame(Phase::Ping, deadline.budget()) {
                Ok(frame) => frame,
                // Data came: the peer is alive, whatever is still in flight.
                Err(Error::Timeout { .. }) if !self.queue.is_empty() => return Ok(None),
                Err(e) => return Err(dead_or(e)),
            };
            match self.incoming(frame)? {
                Incoming::Pong(payload) if payload.as_ref() == nonce => {
                    let rtt = started.elapsed();
                    self.latency = Some(rtt);
                    return Ok(Some(rtt));
                }
                Incoming::Data(message) => {
                    if !self.keep(message) {
                        return Ok(None);
                    }
                }
                Incoming::Pong(_) | Incoming::Control => {}
            }
        }
    }

    /// Keeps a message a liveness check read ahead; false when the queue (or the held-bytes
    /// budget) has no room for another: the check stops reading there.
    fn keep(&mut self, message: Message) -> bool {
        let bytes = self.queued.bytes().saturating_add(message.len());
        // Already in memory: charged even past the budget, and no more is read.
        let within = self.queued.try_set(bytes);
        if !within {
            self.queued.set(bytes);
        }
        self.queue.push_back(message);
        within && self.queue.len() < self.settings.max_queue_size
    }

    /// Reads the next frame of any kind (pings are answered by tungstenite on the way).
    fn read_frame(&mut self, phase: Phase, timeout: Duration) -> Result<tungstenite::Message> {
        let ws = self.socket()?;
        let frame = match ws.read() {
            Ok(frame) => frame,
            Err(e) => {
                let held = ws.get_ref().pending();
                return Err(socket_error(e, phase, timeout, held));
            }
        };
        let wire = frame.len().saturating_add(frame_header_len(frame.len()));
        let data = matches!(
            frame,
            tungstenite::Message::Text(_) | tungstenite::Message::Binary(_)
        );
        ws.get_mut().delivered(wire, data);
        self.last_traffic = Instant::now();
        if data && wire > READ_AHEAD {
            self.shed_read_buffer();
        }
        Ok(frame)
    }

    fn read_data(&mut self, timeout: Duration) -> Result<Message> {
        if let Some(message) = self.queue.pop_front() {
            let left = self.queued.bytes().saturating_sub(message.len());
            self.queued.set(left);
            return Ok(message);
        }
        // Bounded: every pass reads one frame or fails, and reads end at the deadline.
        loop {
            let frame = self.read_frame(Phase::Receive, timeout)?;
            if let Incoming::Data(message) = self.incoming(frame)? {
                return Ok(message);
            }
        }
    }

    /// What a frame means: a data message (secrets of the URL taken out of text), a pong, or
    /// another control frame; a close frame is the peer closing (its reply flushed).
    fn incoming(&mut self, frame: tungstenite::Message) -> Result<Incoming> {
        Ok(match frame {
            tungstenite::Message::Text(text) => {
                Incoming::Data(Message::Text(self.without_secrets(text_of(text))))
            }
            tungstenite::Message::Binary(bytes) => Incoming::Data(Message::Binary(bytes.into())),
            tungstenite::Message::Close(frame) => {
                // tungstenite queued the closing reply; send it before the socket goes.
                let _ = self.socket()?.flush();
                return Err(closed_by_peer(frame));
            }
            tungstenite::Message::Pong(payload) => Incoming::Pong(payload),
            tungstenite::Message::Ping(_) | tungstenite::Message::Frame(_) => Incoming::Control,
        })
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

/// A frame as the reader sees it.
enum Incoming {
    Data(Message),
    Pong(tungstenite::Bytes),
    Control,
}

/// A liveness check that timed out: the peer is dead (a black hole answers nothing).
fn dead_or(e: Error) -> Error {
    match e {
        Error::Timeout { after, .. } => Error::ConnectionDead { after },
        other => other,
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
