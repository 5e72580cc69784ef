//! The peers: a well-behaved echo server (plain and TLS) and servers that misbehave in
//! one precise way each.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use tungstenite::Message;

pub use peers::{echo_loop, Server};

use crate::pki::TestPki;

/// Reads and discards until the client goes away (or the connection lifetime ends).
fn drain(mut stream: TcpStream) {
    let _ = std::io::copy(&mut stream, &mut std::io::sink());
}

/// Echoes every text and binary message.
pub fn echo() -> Server {
    peers::echo().expect("start echo server")
}

/// Echo over TLS with a certificate for `localhost` / `127.0.0.1` signed by `pki`'s CA.
pub fn tls_echo(pki: &TestPki) -> Server {
    tls_echo_on("127.0.0.1", pki)
}

/// [`tls_echo`] bound to another loopback address.
pub fn tls_echo_on(ip: &str, pki: &TestPki) -> Server {
    let acceptor = pki.acceptor();
    Server::start_on(
        ip,
        "wss",
        Arc::new(move |stream| {
            if let Ok(tls) = acceptor.accept(stream) {
                if let Ok(ws) = tungstenite::accept(tls) {
                    echo_loop(ws);
                }
            }
        }),
    )
    .expect("start test server")
}

/// Accepts TCP and never answers: neither the HTTP upgrade (`ws`) nor the TLS handshake (`wss`).
pub fn silent(scheme: &'static str) -> Server {
    Server::start(scheme, Arc::new(drain)).expect("start test server")
}

/// Completes the upgrade, then reads everything and never replies.
pub fn mute_after_upgrade() -> Server {
    Server::start(
        "ws",
        Arc::new(|stream| {
            if let Ok(mut ws) = tungstenite::accept(stream) {
                while ws.read().is_ok() {}
            }
        }),
    )
    .expect("start test server")
}

/// Answers every message with a text frame that is not JSON.
pub fn non_json() -> Server {
    Server::start(
        "ws",
        Arc::new(|stream| {
            if let Ok(mut ws) = tungstenite::accept(stream) {
                while let Ok(m) = ws.read() {
                    if m.is_text() && ws.send(Message::text("hello, not json")).is_err() {
                        break;
                    }
                }
            }
        }),
    )
    .expect("start test server")
}

/// Answers every message with a binary frame.
pub fn binary_reply() -> Server {
    Server::start(
        "ws",
        Arc::new(|stream| {
            if let Ok(mut ws) = tungstenite::accept(stream) {
                while let Ok(m) = ws.read() {
                    if m.is_text() && ws.send(Message::binary(vec![1u8, 2, 3])).is_err() {
                        break;
                    }
                }
            }
        }),
    )
    .expect("start test server")
}

/// Completes the upgrade, reads one message, then drops TCP without a closing handshake.
pub fn abrupt_close() -> Server {
    Server::start(
        "ws",
        Arc::new(|stream| {
            if let Ok(mut ws) = tungstenite::accept(stream) {
                let _ = ws.read();
                let _ = ws.get_mut().shutdown(std::net::Shutdown::Both);
            }
        }),
    )
    .expect("start test server")
}

/// Answers the upgrade request with `HTTP 404`.
pub fn refuse_upgrade() -> Server {
    Server::start(
        "ws",
        Arc::new(|mut stream| {
            let mut buf = [0u8; 2048];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        }),
    )
    .expect("start test server")
}

/// Sends a ping before echoing each message (the client must answer it and go on).
pub fn ping_first() -> Server {
    Server::start(
        "ws",
        Arc::new(|stream| {
            if let Ok(mut ws) = tungstenite::accept(stream) {
                while let Ok(m) = ws.read() {
                    if m.is_text() {
                        let _ = ws.send(Message::Ping(b"are you there".to_vec().into()));
                        if ws.send(m).is_err() {
                            break;
                        }
                    }
                }
            }
        }),
    )
    .expect("start test server")
}

/// The reply this server sends in two halves.
pub const SPLIT_REPLY: &str = r#"{"part":"complete","padding":"xxxxxxxxxxxxxxxxxxxx"}"#;

/// After the first message, writes [`SPLIT_REPLY`] as one frame in two halves with `pause`
/// between them, so a receive that times out in the middle must keep the first half.
pub fn split_frame(pause: Duration) -> Server {
    Server::start(
        "ws",
        Arc::new(move |stream| {
            if let Ok(mut ws) = tungstenite::accept(stream) {
                if ws.read().is_err() {
                    return;
                }
                let payload = SPLIT_REPLY.as_bytes();
                let mut frame = vec![0x81u8, payload.len() as u8];
                frame.extend_from_slice(payload);
                let (first, second) = frame.split_at(frame.len() / 2);
                let raw = ws.get_mut();
                let _ = raw.write_all(first);
                let _ = raw.flush();
                std::thread::sleep(pause);
                let _ = raw.write_all(second);
                let _ = raw.flush();
                while ws.read().is_ok() {}
            }
        }),
    )
    .expect("start test server")
}

/// Answers every message with a JSON string of `len` characters.
pub fn big_reply(len: usize) -> Server {
    Server::start(
        "ws",
        Arc::new(move |stream| {
            if let Ok(mut ws) = tungstenite::accept(stream) {
                while let Ok(m) = ws.read() {
                    let body = format!("\"{}\"", "x".repeat(len));
                    if m.is_text() && ws.send(Message::text(body)).is_err() {
                        break;
                    }
                }
            }
        }),
    )
    .expect("start test server")
}
