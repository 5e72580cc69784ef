//! Envelopes of the client half's results: the envelope itself is the ground floor's
//! ([`contract::Envelope`]); here a [`Reply`] or an error becomes one.

use serde_json::{json, Value};

use crate::{Envelope, Failure, Reply};

/// The envelope of a result whose success is a [`Reply`] and whose error reads as a
/// [`Failure`].
///
/// ```
/// let stats = gateway::websocket_get_stats();
/// assert!(gateway::envelope_of(&stats).is_success());
/// ```
pub fn envelope_of<T: Reply, E>(result: &Result<T, E>) -> Envelope
where
    for<'e> Failure: From<&'e E>,
{
    match result {
        Ok(reply) => Envelope::success(reply.summary(), reply),
        Err(e) => Envelope::failure(&Failure::from(e)),
    }
}

/// `{"success": true, "message": ..., "data": ...}` as a value.
///
/// ```
/// let e = gateway::success_envelope("Done", serde_json::json!({"n": 1}));
/// assert_eq!(e, serde_json::json!({"success": true, "message": "Done", "data": {"n": 1}}));
/// ```
pub fn success_envelope(message: &str, data: Value) -> Value {
    json!({"success": true, "message": message, "data": data})
}

/// `{"success": false, "error": ..., "error_code": ..., "details": ...}` as a value.
///
/// ```
/// let failure = gateway::Failure::new(gateway::codes::WEBSOCKET_TIMEOUT, "Timed out.");
/// let e = gateway::error_envelope(&failure);
/// assert_eq!(e["error_code"], "WEBSOCKET_TIMEOUT");
/// assert_eq!(e["details"], serde_json::json!({}));
/// ```
pub fn error_envelope(failure: &Failure) -> Value {
    Envelope::failure(failure).to_value()
}

/// The envelope of any result, as a value (see [`envelope_of`]).
///
/// ```
/// let stats = gateway::websocket_get_stats();
/// let e = gateway::envelope(&stats);
/// assert_eq!(e["success"], true);
/// assert_eq!(e["data"]["max_rate_limit"], 300);
/// ```
pub fn envelope<T: Reply, E>(result: &Result<T, E>) -> Value
where
    for<'e> Failure: From<&'e E>,
{
    envelope_of(result).to_value()
}
