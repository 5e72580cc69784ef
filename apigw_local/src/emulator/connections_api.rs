//! The Management API on the emulator's own port, under the stage:
//! `/{stage}/@connections/{id}` reaches the real sockets. `POST` sends a frame (text when
//! the data is UTF-8), `GET` reads the connection, `DELETE` closes it with 1000; 410 for
//! closed and never-existing ids and for a connection still in its own `$connect`; 413 over
//! the message limit; 429 when the client is not taking what was posted.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::Shared;
use crate::management::{error, gone, iso};

fn at(ms: i64) -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64)
}

pub(crate) async fn connection(
    State(shared): State<Arc<Shared>>,
    Path((stage, id)): Path<(String, String)>,
    method: Method,
    body: Bytes,
) -> Response {
    if stage != shared.settings.stage {
        return error(StatusCode::FORBIDDEN, "ForbiddenException", "Forbidden");
    }
    let Some(conn) = shared.registry.get(&id) else {
        return gone();
    };
    match method {
        Method::POST => {
            if body.len() > shared.settings.message_limit {
                return error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "PayloadTooLargeException",
                    "Message too long",
                );
            }
            match conn.post(body.to_vec(), shared.settings.outbox_limit) {
                Ok(()) => StatusCode::OK.into_response(),
                Err(_) => error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "LimitExceededException",
                    "Rate exceeded",
                ),
            }
        }
        Method::GET => axum::Json(json!({
            "connectedAt": iso(at(conn.peer.connected_at)),
            "lastActiveAt": iso(at(conn.last_active_ms())),
            "identity": {"sourceIp": conn.peer.source_ip, "userAgent": conn.peer.user_agent}
        }))
        .into_response(),
        Method::DELETE => {
            // Gone for every later call at once, as on AWS, while the close goes out.
            shared.registry.remove(&id);
            conn.close(1000, "Connection Closed Normally");
            StatusCode::NO_CONTENT.into_response()
        }
        _ => error(StatusCode::FORBIDDEN, "ForbiddenException", "Forbidden"),
    }
}
