//! The `ws_*` functions that push through the Management API: to one connection (JSON,
//! text, binary), to lists, all, users and rooms, with one outcome per connection.

use std::time::Instant;

use apigateway::{
    Audience, BroadcastReport, Error, Management, Outcome, Result, DEFAULT_CONCURRENCY,
};
use base64::Engine;
use serde_json::Value;

/// Sends a JSON message to one connection before `deadline`.
///
/// ```no_run
/// # async fn demo(m: &apigateway::Management) {
/// let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
/// let outcome = server_gateway::ws_send_message(m, "https://abc.execute-api.eu-west-1.amazonaws.com/prod",
///     "L0SM9cOFvHcCIhw=", &serde_json::json!({"type": "hi"}), deadline).await;
/// # }
/// ```
pub async fn ws_send_message(
    management: &Management,
    endpoint: &str,
    connection_id: &str,
    message: &Value,
    deadline: Instant,
) -> Outcome {
    ws_send_json(management, endpoint, connection_id, message, deadline).await
}

/// Sends a JSON value (as its text) to one connection.
pub async fn ws_send_json(
    management: &Management,
    endpoint: &str,
    connection_id: &str,
    value: &Value,
    deadline: Instant,
) -> Outcome {
    management
        .send(
            endpoint,
            connection_id,
            value.to_string().as_bytes(),
            deadline,
        )
        .await
}

/// Sends text to one connection.
pub async fn ws_send_text(
    management: &Management,
    endpoint: &str,
    connection_id: &str,
    text: &str,
    deadline: Instant,
) -> Outcome {
    management
        .send(endpoint, connection_id, text.as_bytes(), deadline)
        .await
}

/// Sends bytes given as base64 (standard alphabet, as JSON events carry them) to one
/// connection; base64 that does not decode is `INVALID_PARAMETER`, nothing sent.
pub async fn ws_send_binary(
    management: &Management,
    endpoint: &str,
    connection_id: &str,
    base64: &str,
    deadline: Instant,
) -> Result<Outcome> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(base64)
        .map_err(|_| Error::invalid("binary", "must be base64 (standard alphabet)"))?;
    Ok(management
        .send(endpoint, connection_id, &bytes, deadline)
        .await)
}

/// Sends a JSON message to each of `connection_ids` (64 in flight).
pub async fn ws_broadcast_message(
    management: &Management,
    endpoint: &str,
    connection_ids: &[String],
    message: &Value,
    deadline: Instant,
) -> Result<BroadcastReport> {
    let audience = Audience::Ids(connection_ids.to_vec());
    broadcast(management, endpoint, audience, message, deadline).await
}

/// Sends a JSON message to every live connection.
pub async fn ws_broadcast_to_all(
    management: &Management,
    endpoint: &str,
    message: &Value,
    deadline: Instant,
) -> Result<BroadcastReport> {
    broadcast(management, endpoint, Audience::All, message, deadline).await
}

/// Sends a JSON message to the live connections of `user_ids`.
pub async fn ws_broadcast_to_users(
    management: &Management,
    endpoint: &str,
    user_ids: &[String],
    message: &Value,
    deadline: Instant,
) -> Result<BroadcastReport> {
    let audience = Audience::Users(user_ids.to_vec());
    broadcast(management, endpoint, audience, message, deadline).await
}

/// Sends a JSON message to the live members of `room_id`.
pub async fn ws_broadcast_to_room(
    management: &Management,
    endpoint: &str,
    room_id: &str,
    message: &Value,
    deadline: Instant,
) -> Result<BroadcastReport> {
    let audience = Audience::Room(room_id.to_owned());
    broadcast(management, endpoint, audience, message, deadline).await
}

async fn broadcast(
    management: &Management,
    endpoint: &str,
    audience: Audience,
    message: &Value,
    deadline: Instant,
) -> Result<BroadcastReport> {
    let text = message.to_string();
    management
        .broadcast(
            endpoint,
            audience,
            text.as_bytes(),
            DEFAULT_CONCURRENCY,
            deadline,
        )
        .await
}

/// Whether a connection is open (`GET @connections/{id}`; a 410 removes its records).
pub async fn ws_is_connection_alive(
    management: &Management,
    endpoint: &str,
    connection_id: &str,
) -> Result<bool> {
    management.is_alive(endpoint, connection_id).await
}

/// Closes a connection (`DELETE @connections/{id}`); whether it was open.
pub async fn ws_disconnect_connection(
    management: &Management,
    endpoint: &str,
    connection_id: &str,
) -> Result<bool> {
    management.disconnect(endpoint, connection_id).await
}

/// The SDK client of `endpoint` (one per container, its retries off).
pub async fn ws_get_management_client(
    management: &Management,
    endpoint: &str,
) -> aws_sdk_apigatewaymanagement::Client {
    management.client(endpoint).await
}
