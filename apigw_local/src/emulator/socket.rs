//! One established connection: frames in become message events, the outbox goes out,
//! the limits close it, and every close ends in one `$disconnect`.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

use super::event;
use super::ids::aws_id;
use super::registry::{Conn, Outgoing};
use super::Shared;

/// Longest a frame may take to go out before the client counts as gone (1006).
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest the close handshake may take.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest the upgraded connection may take to be handed over after the 101.
const UPGRADE_TIMEOUT: Duration = Duration::from_secs(10);

/// How a connection ended: what `$disconnect` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ended {
    code: u16,
    reason: String,
    /// The close frame to send the client, when it is still there to get one.
    send: Option<(u16, String)>,
}

impl Ended {
    fn by_us(code: u16, reason: &str) -> Ended {
        Ended {
            code,
            reason: reason.to_owned(),
            send: Some((code, reason.to_owned())),
        }
    }

    fn abnormally() -> Ended {
        Ended {
            code: 1006,
            reason: "Connection closed abnormally".to_owned(),
            send: None,
        }
    }
}

type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// The read and write buffers' target size per connection.
const SOCKET_BUFFER: usize = 4 << 10;

/// Serves `conn` once its upgrade completes, until it closes; then `$disconnect`.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    conn: Arc<Conn>,
    outbox: mpsc::UnboundedReceiver<Outgoing>,
    upgrade: hyper::upgrade::OnUpgrade,
) {
    let ended = match tokio::time::timeout(UPGRADE_TIMEOUT, upgrade).await {
        Ok(Ok(upgraded)) => {
            // tungstenite's buffers default to 128 KiB each way, taken per connection: a
            // few KiB suffice for API Gateway's frames (the buffers grow for a large one
            // and the limits bound that).
            let config = WebSocketConfig::default()
                .read_buffer_size(SOCKET_BUFFER)
                .write_buffer_size(SOCKET_BUFFER)
                .max_frame_size(Some(shared.settings.frame_limit))
                .max_message_size(Some(shared.settings.message_limit));
            let socket = WebSocketStream::from_raw_socket(
                TokioIo::new(upgraded),
                Role::Server,
                Some(config),
            )
            .await;
            run(&shared, &conn, socket, outbox).await
        }
        _ => Ended::abnormally(),
    };
    // Counted as ending before it leaves the registry: a stop never sees neither.
    shared.ending.fetch_add(1, Ordering::SeqCst);
    shared.registry.remove(&conn.peer.connection_id);
    let request_id = aws_id();
    let event = event::disconnect(
        &shared.api,
        &conn.peer,
        ended.code,
        &ended.reason,
        &request_id,
    );
    let _ = shared.invoke(&*shared.functions.integration, event).await;
    shared.disconnected(&conn.peer.connection_id);
    shared.ending.fetch_sub(1, Ordering::SeqCst);
}

async fn run(
    shared: &Arc<Shared>,
    conn: &Arc<Conn>,
    mut socket: Socket,
    mut outbox: mpsc::UnboundedReceiver<Outgoing>,
) -> Ended {
    let settings = &shared.settings;
    let until = tokio::time::Instant::now() + settings.max_connection_duration;
    let mut idle_at = tokio::time::Instant::now() + settings.idle_timeout;
    let ended = loop {
        tokio::select! {
            incoming = socket.next() => {
                let message = match incoming {
                    Some(Ok(message)) => message,
                    Some(Err(e)) => break closed_by_error(&e),
                    None => break Ended::abnormally(),
                };
                idle_at = tokio::time::Instant::now() + settings.idle_timeout;
                conn.touch();
                match message {
                    Message::Text(text) => dispatch(shared, conn, text.as_str().to_owned(), false).await,
                    Message::Binary(data) if settings.binary => {
                        use base64::Engine as _;
                        let body = base64::engine::general_purpose::STANDARD.encode(&data);
                        dispatch(shared, conn, body, true).await;
                    }
                    Message::Binary(_) => break Ended::by_us(1003, "Unsupported data"),
                    Message::Close(frame) => {
                        // tungstenite answers the close; let it go out.
                        let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
                            while let Some(Ok(_)) = socket.next().await {}
                        })
                        .await;
                        return match frame {
                            Some(f) => Ended { code: u16::from(f.code), reason: f.reason.as_str().to_owned(), send: None },
                            None => Ended { code: 1005, reason: "Client-side close frame status not set".into(), send: None },
                        };
                    }
                    Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
                }
            }
            out = outbox.recv() => match out {
                Some(Outgoing::Frame(message, len)) => {
                    let written = tokio::time::timeout(WRITE_TIMEOUT, socket.send(message)).await;
                    conn.sent(len);
                    if !matches!(written, Ok(Ok(()))) {
                        break Ended::abnormally();
                    }
                }
                Some(Outgoing::Close { code, reason }) => break Ended::by_us(code, &reason),
                None => break Ended::abnormally(),
            },
            _ = tokio::time::sleep_until(idle_at) => {
                break Ended::by_us(settings.timeout_close_code, "Going away");
            }
            _ = tokio::time::sleep_until(until) => {
                break Ended::by_us(settings.timeout_close_code, "Going away");
            }
        }
    };
    if let Some((code, reason)) = &ended.send {
        let frame = CloseFrame {
            code: CloseCode::from(*code),
            reason: reason.clone().into(),
        };
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
            if socket.close(Some(frame)).await.is_ok() {
                while let Some(Ok(_)) = socket.next().await {}
            }
        })
        .await;
    }
    ended
}

/// A read failure: over a limit (1009), text that is not UTF-8 (1007), a protocol
/// violation (1002), or the client gone (1006).
fn closed_by_error(e: &WsError) -> Ended {
    match e {
        WsError::Capacity(_) => Ended::by_us(1009, "Message too big"),
        WsError::Utf8(_) => Ended::by_us(1007, "Invalid frame payload data"),
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => Ended::abnormally(),
        WsError::Protocol(_) => Ended::by_us(1002, "Protocol error"),
        _ => Ended::abnormally(),
    }
}

/// The error message API Gateway sends a client: `{"message", "connectionId", "requestId"}`.
pub(crate) fn gateway_message(message: &str, connection_id: &str, request_id: &str) -> String {
    json!({"message": message, "connectionId": connection_id, "requestId": request_id}).to_string()
}

/// Routes one message and invokes the function for it, at most
/// [`MESSAGES_IN_FLIGHT`](super::registry::MESSAGES_IN_FLIGHT) at once per connection.
async fn dispatch(shared: &Arc<Shared>, conn: &Arc<Conn>, body: String, is_base64: bool) {
    let request_id = aws_id();
    let selected = if is_base64 {
        None
    } else {
        shared.settings.selection.select(&body)
    };
    let Some(route) = shared
        .settings
        .routes
        .resolve(selected.as_deref())
        .map(str::to_owned)
    else {
        conn.reply(gateway_message(
            "Forbidden",
            &conn.peer.connection_id,
            &request_id,
        ));
        return;
    };
    let Ok(permit) = Arc::clone(&conn.in_flight).acquire_owned().await else {
        return;
    };
    let shared = Arc::clone(shared);
    let conn = Arc::clone(conn);
    tokio::spawn(async move {
        let _permit = permit;
        let event = event::message(
            &shared.api,
            &conn.peer,
            &route,
            &body,
            is_base64,
            &request_id,
        );
        drop(body);
        let answer = shared.invoke(&*shared.functions.integration, event).await;
        let id = &conn.peer.connection_id;
        match answer {
            Some(Ok(answer)) if super::connect::status_of(&answer).is_none() => {
                shared.warn(&format!("route {route}: the function's answer is not a proxy answer (request {request_id})"));
                conn.reply(gateway_message("Internal server error", id, &request_id));
            }
            Some(Ok(answer)) => {
                if shared.settings.routes.is_two_way(&route) {
                    if let Some(body) = answer.get("body").and_then(Value::as_str) {
                        conn.reply(body.to_owned());
                    }
                }
            }
            Some(Err(e)) => {
                shared.warn(&format!(
                    "route {route}: {} (request {request_id})",
                    e.log_text()
                ));
                conn.reply(gateway_message("Internal server error", id, &request_id));
            }
            None => conn.reply(gateway_message(
                "Endpoint request timed out",
                id,
                &request_id,
            )),
        }
    });
}
