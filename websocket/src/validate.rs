//! Checks on caller input, done before any network work.

use std::time::Duration;

use serde_json::Value;
use url::Url;

use crate::error::{Error, Result};

/// Longest timeout accepted: Lambda's own maximum run time.
pub const MAX_TIMEOUT_SECS: f64 = 900.0;

/// Default timeout when a caller gives none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Parses and checks a WebSocket URL: it must parse, use `ws` or `wss`, and name a host.
/// Error messages show the URL without credentials.
///
/// ```
/// assert!(websocket::validate_url("wss://example.com/api").is_ok());
/// let err = websocket::validate_url("http://example.com").unwrap_err();
/// assert_eq!(err.code(), websocket::ErrorCode::InvalidParameter);
/// ```
pub fn validate_url(raw: &str) -> Result<Url> {
    let url = Url::parse(raw)
        .map_err(|e| Error::invalid_parameter("url", &format!("not a valid URL ({e})")))?;
    if url.scheme() != "ws" && url.scheme() != "wss" {
        return Err(Error::invalid_parameter(
            "url",
            &format!("scheme must be ws or wss, not '{}'", url.scheme()),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid_parameter("url", "the URL names no host"));
    }
    Ok(url)
}

/// Checks a timeout in seconds: a finite number in (0, 900].
///
/// ```
/// assert_eq!(websocket::validate_timeout(2.5).unwrap(), std::time::Duration::from_millis(2500));
/// assert!(websocket::validate_timeout(0.0).is_err());
/// assert!(websocket::validate_timeout(f64::NAN).is_err());
/// ```
pub fn validate_timeout(seconds: f64) -> Result<Duration> {
    if seconds.is_finite() && seconds > 0.0 && seconds <= MAX_TIMEOUT_SECS {
        Ok(Duration::from_secs_f64(seconds))
    } else {
        Err(Error::invalid_parameter(
            "timeout",
            "must be a number of seconds greater than 0 and at most 900",
        ))
    }
}

/// Checks that a message is a JSON object or array.
///
/// ```
/// assert!(websocket::validate_message(&serde_json::json!({"type": "ping"})).is_ok());
/// assert!(websocket::validate_message(&serde_json::json!("text")).is_err());
/// ```
pub fn validate_message(message: &Value) -> Result<()> {
    if message.is_object() || message.is_array() {
        Ok(())
    } else {
        Err(Error::invalid_parameter(
            "message",
            "must be a JSON object or array",
        ))
    }
}
