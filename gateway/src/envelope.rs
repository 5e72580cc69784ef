//! The JSON envelope every answer at a JSON boundary takes.

use serde_json::{json, Value};

use crate::{Error, Reply, Result};

/// `{"success": true, "message": ..., "data": ...}`.
///
/// ```
/// let e = gateway::success_envelope("Done", serde_json::json!({"n": 1}));
/// assert_eq!(e, serde_json::json!({"success": true, "message": "Done", "data": {"n": 1}}));
/// ```
pub fn success_envelope(message: &str, data: Value) -> Value {
    json!({"success": true, "message": message, "data": data})
}

/// `{"success": false, "error": ..., "error_code": ..., "details": ...}`.
///
/// ```
/// let err = gateway::Error::new(gateway::ErrorCode::WebsocketTimeout, "Timed out.");
/// let e = gateway::error_envelope(&err);
/// assert_eq!(e["error_code"], "WEBSOCKET_TIMEOUT");
/// assert_eq!(e["details"], serde_json::json!({}));
/// ```
pub fn error_envelope(error: &Error) -> Value {
    json!({
        "success": false,
        "error": error.message(),
        "error_code": error.code().as_str(),
        "details": error.details(),
    })
}

/// The envelope of any gateway result.
///
/// ```
/// let stats: gateway::Result<gateway::Stats> = Ok(gateway::websocket_get_stats());
/// let e = gateway::envelope(&stats);
/// assert_eq!(e["success"], true);
/// assert_eq!(e["data"]["max_rate_limit"], 300);
/// ```
pub fn envelope<T: Reply>(result: &Result<T>) -> Value {
    match result {
        Ok(reply) => match serde_json::to_value(reply) {
            Ok(data) => success_envelope(reply.summary(), data),
            Err(e) => error_envelope(&Error::new(
                crate::ErrorCode::WebsocketParseFailed,
                format!("The result could not be serialized: {e}."),
            )),
        },
        Err(error) => error_envelope(error),
    }
}
