//! Servers that stall the client's flow in the middle of a frame: a reader that stops
//! reading after a few kilobytes (and later reads on, to see whether the rest ever comes),
//! and a writer that stops one byte short of a frame.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tungstenite::protocol::{Role, WebSocketConfig};
use tungstenite::WebSocket;

use crate::hostile::upgrade_by_hand;
use crate::server::Server;

/// The receive buffer a stalling reader asks the kernel for, so a stalled read cannot be
/// hidden by megabytes of socket buffers.
pub const STALLED_RECEIVE_BUFFER: usize = 16 << 10;

/// Shrinks `stream`'s receive buffer to [`STALLED_RECEIVE_BUFFER`].
pub fn shrink_receive_buffer(stream: &TcpStream) {
    let _ = socket2::SockRef::from(stream).set_recv_buffer_size(STALLED_RECEIVE_BUFFER);
}

/// A stream that, once `after` bytes were read from it, sleeps `pause` in the next read
/// (once): a peer that stops reading mid-frame and reads on later.
#[derive(Debug)]
pub struct StallAfter<S> {
    inner: S,
    left: Option<usize>,
    pause: Duration,
}

impl<S> StallAfter<S> {
    /// Wraps `inner`; `None` never stalls.
    pub fn new(inner: S, stall: Option<(usize, Duration)>) -> Self {
        StallAfter {
            inner,
            left: stall.map(|(after, _)| after),
            pause: stall.map(|(_, pause)| pause).unwrap_or_default(),
        }
    }
}

impl<S: Read> Read for StallAfter<S> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.left {
            Some(0) => {
                std::thread::sleep(self.pause);
                self.left = None;
                self.inner.read(buf)
            }
            Some(left) => {
                let n = buf.len().min(left);
                let n = self.inner.read(&mut buf[..n])?;
                self.left = Some(left - n);
                Ok(n)
            }
            None => self.inner.read(buf),
        }
    }
}

impl<S: Write> Write for StallAfter<S> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A WebSocket server that upgrades, reads `read_before` bytes, stops reading for `pause`,
/// then reads on and records the size of every complete message it gets.
///
/// ```
/// let reader = peers::StalledReader::start(64 << 10, std::time::Duration::from_millis(10)).unwrap();
/// assert!(reader.url().starts_with("ws://127.0.0.1:"));
/// assert!(reader.messages().is_empty());
/// ```
#[derive(Debug)]
pub struct StalledReader {
    server: Server,
    messages: Arc<Mutex<Vec<usize>>>,
    ended: Arc<AtomicUsize>,
}

impl StalledReader {
    /// Starts the server on 127.0.0.1.
    pub fn start(read_before: usize, pause: Duration) -> std::io::Result<StalledReader> {
        let messages = Arc::new(Mutex::new(Vec::new()));
        let ended = Arc::new(AtomicUsize::new(0));
        let (m, e) = (Arc::clone(&messages), Arc::clone(&ended));
        let server = Server::start(
            "ws",
            Arc::new(move |mut stream: TcpStream| {
                shrink_receive_buffer(&stream);
                if upgrade_by_hand(&mut stream, 0).is_ok() {
                    let stalling = StallAfter::new(stream, Some((read_before, pause)));
                    let config = WebSocketConfig::default()
                        .max_message_size(None)
                        .max_frame_size(None);
                    let mut ws = WebSocket::from_raw_socket(stalling, Role::Server, Some(config));
                    while let Ok(message) = ws.read() {
                        if message.is_text() || message.is_binary() {
                            m.lock().push(message.len());
                        }
                    }
                }
                e.fetch_add(1, Ordering::SeqCst);
            }),
        )?;
        Ok(StalledReader {
            server,
            messages,
            ended,
        })
    }

    /// `ws://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Sizes of the complete messages received so far, in order.
    pub fn messages(&self) -> Vec<usize> {
        self.messages.lock().clone()
    }

    /// Connections that have ended (the client went away or broke the protocol).
    pub fn ended(&self) -> usize {
        self.ended.load(Ordering::SeqCst)
    }
}

/// An unmasked frame with `first` (FIN and opcode) announcing `payload` bytes (64-bit
/// length), followed by `body` bytes of `x`: shared by every connection of a server.
fn frame_of_xs(first: u8, payload: usize, body: usize) -> Arc<[u8]> {
    let mut frame = vec![first, 127];
    frame.extend_from_slice(&(payload as u64).to_be_bytes());
    frame.resize(frame.len() + body, b'x');
    frame.into()
}

/// A server that upgrades, writes a binary frame of `payload` bytes but its last byte,
/// and then only reads until the client goes: every connection holds a frame one byte
/// short of complete.
///
/// ```
/// let server = peers::one_byte_short(1024).unwrap();
/// assert!(server.url().starts_with("ws://127.0.0.1:"));
/// ```
pub fn one_byte_short(payload: usize) -> std::io::Result<Server> {
    let frame = frame_of_xs(0x82, payload, payload.saturating_sub(1));
    Server::start(
        "ws",
        Arc::new(move |mut stream: TcpStream| {
            if upgrade_by_hand(&mut stream, 0).is_err() {
                return;
            }
            if stream.write_all(&frame).is_ok() {
                let _ = stream.flush();
            }
            let _ = std::io::copy(&mut stream, &mut std::io::sink());
        }),
    )
}

/// A server that answers each text message with one text frame of `payload` bytes (`x`s),
/// written from one buffer shared by every connection, and reads until the client goes.
///
/// ```
/// let server = peers::large_text_reply(1 << 20).unwrap();
/// assert!(server.url().starts_with("ws://127.0.0.1:"));
/// ```
pub fn large_text_reply(payload: usize) -> std::io::Result<Server> {
    let frame = frame_of_xs(0x81, payload, payload);
    Server::start(
        "ws",
        Arc::new(move |mut stream: TcpStream| {
            if upgrade_by_hand(&mut stream, 0).is_err() {
                return;
            }
            let Ok(raw) = stream.try_clone() else {
                return;
            };
            let mut ws = WebSocket::from_raw_socket(raw, Role::Server, None);
            while let Ok(message) = ws.read() {
                if message.is_text() && stream.write_all(&frame).is_err() {
                    return;
                }
            }
        }),
    )
}
