//! What comes back: Home Assistant's answer kept as its JSON text, and what the last call
//! ran on.

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::{Error, Result};

/// Home Assistant's answer, kept as the JSON text it sent: passing it on costs its size,
/// not a tree. [`HaResult::to_value`] builds a value for callers that want one.
///
/// ```
/// let r = home_assistant::HaResult::from_json(r#"{"state":"on"}"#).unwrap();
/// assert_eq!(r.to_value()["state"], "on");
/// assert_eq!(r.as_str(), r#"{"state":"on"}"#);
/// ```
#[derive(Debug, Clone)]
pub struct HaResult(pub(crate) Box<RawValue>);

impl HaResult {
    /// A result from JSON text (checked).
    pub fn from_json(text: &str) -> Result<HaResult> {
        RawValue::from_string(text.to_owned())
            .map(HaResult)
            .map_err(|e| Error::invalid_parameter("result", &format!("is not JSON ({e})")))
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// The raw JSON.
    pub fn raw(&self) -> &RawValue {
        &self.0
    }

    /// The result as a value.
    pub fn to_value(&self) -> Value {
        serde_json::from_str(self.0.get()).unwrap_or(Value::Null)
    }
}

impl Serialize for HaResult {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// What the last call ran on: the session, Home Assistant's version, and whether a warm
/// session was reused.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionInfo {
    /// The session's name (`ha-<n>`): Home Assistant's connections are its own, not
    /// handles of the gateway.
    pub connection: String,
    /// Home Assistant's version from `auth_ok`.
    pub ha_version: String,
    /// Whether this call reused a session opened earlier in the process.
    pub reused: bool,
    /// The round trip of the session's last liveness check (Home Assistant's `ping`), in
    /// milliseconds; absent before one ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// Events (and other messages for later readers) the session's backlog dropped during
    /// this call to stay within its bounds; absent when none.
    #[serde(skip_serializing_if = "is_zero")]
    pub events_dropped: u64,
    /// Messages the session's backlog dropped since it opened; absent when none.
    #[serde(skip_serializing_if = "is_zero")]
    pub events_dropped_total: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The state of the pooled session of a URL and token, for the `ha_info` operation: no
/// command is sent, nothing is opened.
///
/// ```
/// let status = home_assistant::SessionStatus::default();
/// assert_eq!(status.state, "none");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionStatus {
    /// `open`, `broken` (to be replaced on the next call) or `none`.
    pub state: &'static str,
    /// The session's name (`ha-<n>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    /// Home Assistant's version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ha_version: Option<String>,
    /// Seconds since it was authenticated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_seconds: Option<f64>,
    /// Seconds since anything went through it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_seconds: Option<f64>,
    /// The round trip of its last liveness check, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// Whether Home Assistant coalesces messages for it (absent until it answered).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coalescing: Option<bool>,
    /// Subscriptions held (they outlive the session).
    pub subscriptions: usize,
    /// Messages received but not yet read.
    pub pending_messages: usize,
}

impl Default for SessionStatus {
    fn default() -> Self {
        SessionStatus {
            state: "none",
            connection: None,
            ha_version: None,
            age_seconds: None,
            idle_seconds: None,
            latency_ms: None,
            coalescing: None,
            subscriptions: 0,
            pending_messages: 0,
        }
    }
}
