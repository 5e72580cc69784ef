//! The built-in app's messages: every frame is JSON with a `type`, a `data` object and a
//! `timestamp` (RFC 3339, UTC).

use serde_json::{json, Value};

use crate::time::rfc3339;

/// A room's id: a string, or an integer (the design's own clients send `1`), kept as a
/// string.
///
/// ```
/// use server_interface::RoomId;
/// assert_eq!(RoomId::from_json(&serde_json::json!(7)).unwrap().as_str(), "7");
/// assert!(RoomId::from_json(&serde_json::json!(1.5)).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoomId(String);

impl RoomId {
    /// A room id from text: the store's id rule ([`apigateway::check_id`]: 1 to 128
    /// characters, no control characters).
    pub fn new(id: &str) -> Result<RoomId, String> {
        apigateway::check_id("room_id", id).map_err(|_| {
            format!(
                "room_id must be 1 to {} characters without control characters",
                apigateway::MAX_ID_LEN
            )
        })?;
        Ok(RoomId(id.to_owned()))
    }

    /// A room id from JSON: a string or an integer.
    pub fn from_json(value: &Value) -> Result<RoomId, String> {
        match value {
            Value::String(s) => RoomId::new(s),
            Value::Number(n) if n.is_i64() || n.is_u64() => RoomId::new(&n.to_string()),
            _ => Err("room_id must be a string or an integer".to_owned()),
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a client asks the built-in app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppRequest {
    /// `ping` → `pong`.
    Ping,
    /// `hello` → the welcome (`connection`).
    Hello,
    /// `subscribe_room` → `room_subscribed`.
    SubscribeRoom(RoomId),
    /// `unsubscribe_room` → `room_unsubscribed`.
    UnsubscribeRoom(RoomId),
    /// `get_stats` → `stats`.
    GetStats,
    /// `room_message` → the room's other members get it; the sender gets the counts.
    RoomMessage {
        /// The room.
        room: RoomId,
        /// What to pass on (any JSON).
        message: Value,
    },
    /// `direct_message` → a user's connections get it; the sender gets the counts.
    DirectMessage {
        /// The user.
        user_id: String,
        /// What to pass on.
        message: Value,
    },
    /// `broadcast` → every other connection gets it; the sender gets the counts.
    Broadcast {
        /// What to pass on.
        message: Value,
    },
    /// `room_members` → `room_members`: who is in the room (its connections and users).
    RoomMembers(RoomId),
    /// `kick` → every connection of a user is closed (`DELETE @connections`); needs the
    /// admin scope.
    Kick {
        /// The user.
        user_id: String,
    },
}

impl AppRequest {
    /// Reads a frame: JSON with a string `type` and, when given, an object `data`. What is
    /// wrong is a sentence for the error frame.
    pub fn parse(body: &str) -> Result<AppRequest, String> {
        let value: Value =
            serde_json::from_str(body).map_err(|_| "The message is not JSON.".to_owned())?;
        let Some(kind) = value.get("type").and_then(Value::as_str) else {
            return Err("The message needs a string 'type'.".to_owned());
        };
        let data = match value.get("data") {
            None | Some(Value::Null) => Value::Object(Default::default()),
            Some(d @ Value::Object(_)) => d.clone(),
            Some(_) => return Err("The message's 'data' must be an object.".to_owned()),
        };
        let room = || {
            data.get("room_id")
                .ok_or_else(|| "The message needs data.room_id.".to_owned())
                .and_then(|r| RoomId::from_json(r).map_err(|e| format!("Invalid {e}.")))
        };
        match kind {
            "ping" => Ok(AppRequest::Ping),
            "hello" => Ok(AppRequest::Hello),
            "subscribe_room" => Ok(AppRequest::SubscribeRoom(room()?)),
            "unsubscribe_room" => Ok(AppRequest::UnsubscribeRoom(room()?)),
            "get_stats" => Ok(AppRequest::GetStats),
            "room_message" => Ok(AppRequest::RoomMessage {
                room: room()?,
                message: message(&data)?,
            }),
            "direct_message" => Ok(AppRequest::DirectMessage {
                user_id: user(&data)?,
                message: message(&data)?,
            }),
            "room_members" => Ok(AppRequest::RoomMembers(room()?)),
            "kick" => Ok(AppRequest::Kick {
                user_id: user(&data)?,
            }),
            "broadcast" => Ok(AppRequest::Broadcast {
                message: message(&data)?,
            }),
            other => Err(format!(
                "Unknown message type '{}'.",
                other
                    .chars()
                    .flat_map(char::escape_debug)
                    .take(64)
                    .collect::<String>()
            )),
        }
    }
}

fn user(data: &Value) -> Result<String, String> {
    data.get("user_id")
        .and_then(Value::as_str)
        .filter(|u| apigateway::check_id("user_id", u).is_ok())
        .map(str::to_owned)
        .ok_or_else(|| "The message needs data.user_id, a user id.".to_owned())
}

fn message(data: &Value) -> Result<Value, String> {
    match data.get("message") {
        None | Some(Value::Null) => Err("The message needs data.message.".to_owned()),
        Some(m) => Ok(m.clone()),
    }
}

/// A frame: `{"type": kind, "data": data, "timestamp": now}`.
///
/// ```
/// let f: serde_json::Value = serde_json::from_str(&server_interface::frame("pong", serde_json::json!({}))).unwrap();
/// assert_eq!(f["type"], "pong");
/// assert!(f["timestamp"].as_str().unwrap().ends_with('Z'));
/// ```
pub fn frame(kind: &str, data: Value) -> String {
    json!({"type": kind, "data": data, "timestamp": rfc3339(None)}).to_string()
}

/// An error frame: `{"type": "error", "data": {"error": sentence, "error_code": code}, ...}`.
///
/// ```
/// let f: serde_json::Value = serde_json::from_str(&server_interface::error_frame("Bad.", "INVALID_MESSAGE")).unwrap();
/// assert_eq!(f["data"]["error_code"], "INVALID_MESSAGE");
/// ```
pub fn error_frame(error: &str, code: &str) -> String {
    frame("error", json!({"error": error, "error_code": code}))
}
