//! Servers that break the protocol on purpose after (or during) the upgrade: frames that
//! announce gigabytes, oversized upgrade responses, control frames in pieces, masked
//! frames, reserved opcodes, close codes that may not be sent.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use crate::server::Server;

/// One way to break the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breach {
    /// A text frame header announcing this many bytes, then `body` bytes of it.
    Announce {
        /// The announced length.
        length: u64,
        /// Bytes of body actually written after the header.
        body: usize,
    },
    /// A 101 answer to the upgrade carrying about this many bytes of extra headers.
    HugeUpgradeResponse(usize),
    /// A ping frame without FIN: a fragmented control frame.
    FragmentedControlFrame,
    /// A text frame with the mask bit set (only clients mask).
    MaskedFrame,
    /// A data frame with the reserved opcode 3.
    ReservedOpcode,
    /// A close frame with code 999, which no endpoint may send.
    InvalidCloseCode,
}

impl Breach {
    /// The raw bytes sent after the upgrade (for the frame breaches).
    fn bytes(self) -> Vec<u8> {
        match self {
            Breach::Announce { length, body } => {
                let mut out = vec![0x81, 127];
                out.extend_from_slice(&length.to_be_bytes());
                out.resize(out.len() + body, b'x');
                out
            }
            Breach::FragmentedControlFrame => vec![0x09, 0x00],
            Breach::MaskedFrame => vec![
                0x81,
                0x85,
                1,
                2,
                3,
                4,
                b'h' ^ 1,
                b'e' ^ 2,
                b'l' ^ 3,
                b'l' ^ 4,
                b'o' ^ 1,
            ],
            Breach::ReservedOpcode => vec![0x83, 0x00],
            Breach::InvalidCloseCode => vec![0x88, 0x02, 0x03, 0xE7],
            Breach::HugeUpgradeResponse(_) => Vec::new(),
        }
    }
}

/// Reads an HTTP upgrade request and answers it by hand: a valid 101, plus `junk` bytes of
/// extra headers.
pub(crate) fn upgrade_by_hand(stream: &mut TcpStream, junk: usize) -> std::io::Result<()> {
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 << 10 {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        request.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&request);
    let key = text
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.trim().eq_ignore_ascii_case("sec-websocket-key"))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_default();
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let mut answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"
    );
    let line = format!("X-Padding: {}\r\n", "p".repeat(1000));
    while answer.len() < junk {
        answer.push_str(&line);
    }
    answer.push_str("\r\n");
    stream.write_all(answer.as_bytes())
}

/// A server that upgrades, waits for one message, then commits `breach`; for
/// [`Breach::HugeUpgradeResponse`] the upgrade itself is the breach.
pub fn breaching(breach: Breach) -> std::io::Result<Server> {
    Server::start(
        "ws",
        Arc::new(move |mut stream: TcpStream| {
            if let Breach::HugeUpgradeResponse(size) = breach {
                let _ = upgrade_by_hand(&mut stream, size);
                let _ = std::io::copy(&mut stream, &mut std::io::sink());
                return;
            }
            if upgrade_by_hand(&mut stream, 0).is_err() {
                return;
            }
            // Wait for the client's first frame (any bytes), then misbehave.
            let mut buf = [0u8; 4096];
            if stream.read(&mut buf).unwrap_or(0) == 0 {
                return;
            }
            let _ = stream.write_all(&breach.bytes());
            let _ = stream.flush();
            // Keep the socket open and read whatever comes until the client goes.
            let _ = std::io::copy(&mut stream, &mut std::io::sink());
        }),
    )
}
