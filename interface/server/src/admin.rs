//! The management API's operations: the body of `POST /api/v1/websocket/broadcast`, and the
//! stats every face reports (the HTTP route, the app's `get_stats`, the heartbeat).

use apigateway::StoreStats;
use serde_json::{json, Map, Value};

use crate::time::rfc3339;

/// Longest message `type` accepted.
pub const MAX_TYPE_LEN: usize = 64;

/// A broadcast an operator asks for: `{"type": "...", "data": {...}}`.
///
/// ```
/// use server_interface::AdminBroadcast;
/// let b = AdminBroadcast::parse(r#"{"type": "notice", "data": {"text": "maintenance at 6"}}"#).unwrap();
/// assert_eq!(b.kind, "notice");
/// assert!(AdminBroadcast::parse(r#"{"data": {}}"#).is_err());
/// assert!(AdminBroadcast::parse("not json").is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AdminBroadcast {
    /// The frame's `type`: 1 to 64 letters, digits, `_`, `-`, `.` or `:`.
    pub kind: String,
    /// The frame's `data` (an object; `{}` when absent).
    pub data: Map<String, Value>,
}

impl AdminBroadcast {
    /// Reads a body; the sentence says what is wrong.
    pub fn parse(body: &str) -> Result<AdminBroadcast, String> {
        let value: Value =
            serde_json::from_str(body).map_err(|_| "The body is not JSON.".to_owned())?;
        let Some(object) = value.as_object() else {
            return Err("The body must be a JSON object.".to_owned());
        };
        let kind = object
            .get("type")
            .and_then(Value::as_str)
            .filter(|k| {
                !k.is_empty()
                    && k.len() <= MAX_TYPE_LEN
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_-.:".contains(c))
            })
            .ok_or_else(|| {
                format!("type must be 1 to {MAX_TYPE_LEN} letters, digits, '_', '-', '.' or ':'.")
            })?;
        let data = match object.get("data") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(data)) => data.clone(),
            Some(_) => return Err("data must be a JSON object.".to_owned()),
        };
        Ok(AdminBroadcast {
            kind: kind.to_owned(),
            data,
        })
    }

    /// Its frame: `{"type": ..., "data": ..., "timestamp": ...}`.
    pub fn frame(&self) -> String {
        crate::frame(&self.kind, Value::Object(self.data.clone()))
    }
}

/// The stats as every face reports them: `connected_clients`, `total_connections`,
/// `messages_sent`, `messages_received`, `last_activity` (RFC 3339, `null` before any).
///
/// ```
/// let v = server_interface::stats_data(&apigateway::StoreStats::default());
/// assert_eq!(v["connected_clients"], 0);
/// assert!(v["last_activity"].is_null());
/// ```
pub fn stats_data(stats: &StoreStats) -> Value {
    json!({
        "connected_clients": stats.connected_clients,
        "total_connections": stats.total_connections,
        "messages_sent": stats.messages_sent,
        "messages_received": stats.messages_received,
        "last_activity": (stats.last_activity > 0).then(|| rfc3339(Some(stats.last_activity))),
    })
}

/// The heartbeat frame: `{"type":"heartbeat","data":{"timestamp":…,"clients":N},"timestamp":…}`.
///
/// ```
/// let f: serde_json::Value = serde_json::from_str(&server_interface::heartbeat_frame(3)).unwrap();
/// assert_eq!(f["type"], "heartbeat");
/// assert_eq!(f["data"]["clients"], 3);
/// ```
pub fn heartbeat_frame(clients: i64) -> String {
    crate::frame(
        "heartbeat",
        json!({"timestamp": rfc3339(None), "clients": clients}),
    )
}
