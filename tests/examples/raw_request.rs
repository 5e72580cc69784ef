//! The baseline of the cold-start benchmark: the smallest program that does what one
//! `lambda invoke` request does, with raw tungstenite and native-tls: connect (for `wss://`
//! through `native_tls::TlsConnector::new()`, exactly what tungstenite's own `native-tls`
//! feature does in `tungstenite::connect`), send one text message, print the reply, complete
//! the closing handshake. It wraps the TLS stream itself so that no package of the
//! workspace turns tungstenite's TLS feature on: Cargo would unify it into every binary
//! `cargo lambda build` builds.
//!
//! `raw_request <url> <message>`

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;

use tungstenite::Message;

/// The stream under the WebSocket: plain or TLS.
enum Stream {
    Plain(TcpStream),
    Tls(Box<native_tls::TlsStream<TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

fn open(url: &str) -> Option<Stream> {
    let parsed = url::Url::parse(url).ok()?;
    let host = parsed
        .host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']');
    let port = parsed.port_or_known_default()?;
    let tcp = TcpStream::connect((host, port)).ok()?;
    if parsed.scheme() == "wss" {
        let connector = native_tls::TlsConnector::new().ok()?;
        Some(Stream::Tls(Box::new(connector.connect(host, tcp).ok()?)))
    } else {
        Some(Stream::Plain(tcp))
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(message)) = (args.next(), args.next()) else {
        eprintln!("usage: raw_request <url> <message>");
        return ExitCode::from(2);
    };
    let Some(stream) = open(&url) else {
        return ExitCode::FAILURE;
    };
    let Ok((mut ws, _)) = tungstenite::client(url.as_str(), stream) else {
        return ExitCode::FAILURE;
    };
    if ws.send(Message::text(message)).is_err() {
        return ExitCode::FAILURE;
    }
    let reply = loop {
        match ws.read() {
            Ok(Message::Text(text)) => break text.to_string(),
            Ok(_) => continue,
            Err(_) => return ExitCode::FAILURE,
        }
    };
    println!("{reply}");
    // The closing handshake, as `lambda invoke` does it: send Close, wait for the server's.
    let _ = ws.close(None);
    while ws.read().is_ok() {}
    ExitCode::SUCCESS
}
