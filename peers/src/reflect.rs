//! A server that reflects what the client sent in its upgrade request — the path and query,
//! `?token=` included, and every header — back at it: as a non-JSON text reply to the first
//! message, and as the reason of a close frame after the second.

use std::net::TcpStream;
use std::sync::Arc;

use tungstenite::handshake::server::{Request, Response};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::CloseFrame;
use tungstenite::Message;

use crate::server::Server;

/// Starts the reflecting server on 127.0.0.1.
///
/// (The upgrade callback's error type is tungstenite's `ErrorResponse`, large by design.)
///
/// ```
/// let server = peers::reflector().unwrap();
/// assert!(server.url().starts_with("ws://127.0.0.1:"));
/// ```
pub fn reflector() -> std::io::Result<Server> {
    reflector_choosing(None)
}

/// [`reflector`] that answers an offer of subprotocols with `choice` — or, when `None`, with
/// the first one offered.
///
/// ```
/// let server = peers::reflector_choosing(Some("not-offered")).unwrap();
/// assert!(server.url().starts_with("ws://127.0.0.1:"));
/// ```
#[allow(clippy::result_large_err)]
pub fn reflector_choosing(choice: Option<&'static str>) -> std::io::Result<Server> {
    Server::start(
        "ws",
        Arc::new(move |stream: TcpStream| {
            let mut seen = String::new();
            let callback = |request: &Request, mut response: Response| {
                let offered = request
                    .headers()
                    .get("Sec-WebSocket-Protocol")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.split(',').next())
                    .map(|first| first.trim().to_owned());
                if let Some(chosen) = choice.map(str::to_owned).or(offered) {
                    if let Ok(value) = chosen.parse() {
                        response
                            .headers_mut()
                            .insert("Sec-WebSocket-Protocol", value);
                    }
                }
                seen.push_str(&request.uri().to_string());
                for (name, value) in request.headers() {
                    seen.push_str(&format!(
                        " {name}={}",
                        String::from_utf8_lossy(value.as_bytes())
                    ));
                }
                Ok(response)
            };
            let Ok(mut ws) = tungstenite::accept_hdr(stream, callback) else {
                return;
            };
            if ws.read().is_err() || ws.send(Message::text(format!("you sent {seen}"))).is_err() {
                return;
            }
            if ws.read().is_err() {
                return;
            }
            // A close reason holds at most 123 bytes: the query first.
            let reason: String = seen.chars().take(120).collect();
            let _ = ws.close(Some(CloseFrame {
                code: CloseCode::Policy,
                reason: reason.into(),
            }));
            let _ = ws.flush();
            while ws.read().is_ok() {}
        }),
    )
}
