//! The JSON envelope every answer at a JSON boundary takes.

use serde_json::{json, Value};

use crate::codes::{ErrorCode, Failure};
use crate::Reply;

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
/// let failure = gateway::Failure::new(gateway::ErrorCode::WebsocketTimeout, "Timed out.");
/// let e = gateway::error_envelope(&failure);
/// assert_eq!(e["error_code"], "WEBSOCKET_TIMEOUT");
/// assert_eq!(e["details"], serde_json::json!({}));
/// ```
pub fn error_envelope(failure: &Failure) -> Value {
    json!({
        "success": false,
        "error": failure.message,
        "error_code": failure.code.as_str(),
        "details": failure.details,
    })
}

/// The envelope of any result whose success is a [`Reply`] and whose error reads as a
/// [`Failure`].
///
/// ```
/// let stats: Result<gateway::Stats, gateway::Error> = Ok(gateway::websocket_get_stats());
/// let e = gateway::envelope(&stats);
/// assert_eq!(e["success"], true);
/// assert_eq!(e["data"]["max_rate_limit"], 300);
/// ```
pub fn envelope<T: Reply, E>(result: &Result<T, E>) -> Value
where
    for<'e> Failure: From<&'e E>,
{
    match result {
        Ok(reply) => match serde_json::to_value(reply) {
            Ok(data) => success_envelope(reply.summary(), data),
            Err(e) => error_envelope(&Failure::new(
                ErrorCode::WebsocketParseFailed,
                format!("The result could not be serialized: {e}."),
            )),
        },
        Err(e) => error_envelope(&Failure::from(e)),
    }
}
