//! What Home Assistant sends, read with serde into a tagged enum. Results and events stay
//! raw JSON text: a large answer costs its size, not a tree.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

/// One message from Home Assistant.
#[derive(Debug)]
pub(crate) enum HaMessage {
    /// The server asks for authentication.
    AuthRequired,
    /// Authentication succeeded.
    AuthOk {
        /// Home Assistant's version.
        ha_version: Option<String>,
    },
    /// Authentication failed.
    AuthInvalid {
        /// Home Assistant's explanation.
        message: Option<String>,
    },
    /// The answer to command `id`.
    Result {
        id: u64,
        outcome: Result<Box<RawValue>, HaFailure>,
    },
    /// The answer to a `ping`.
    Pong { id: u64 },
    /// An event of subscription `id`.
    Event { id: u64, event: Box<RawValue> },
    /// Any other type (kept so nothing is lost).
    Other { kind: String },
}

/// Home Assistant's `error` object of a failed result.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct HaFailure {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

/// The message as it comes over the wire: one flat shape for every type, fields borrowed.
#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    id: Option<u64>,
    #[serde(default)]
    success: Option<bool>,
    #[serde(default, borrow)]
    result: Option<&'a RawValue>,
    #[serde(default)]
    error: Option<HaFailure>,
    #[serde(default, borrow)]
    event: Option<&'a RawValue>,
    #[serde(default)]
    ha_version: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// Why a message could not be read.
#[derive(Debug)]
pub(crate) enum Unreadable {
    /// Not JSON, or no `type`.
    NotAMessage,
    /// A result, pong or event without a numeric `id`.
    NoId(String),
}

const NULL: &str = "null";

impl HaMessage {
    /// Reads one text frame.
    pub(crate) fn parse(text: &str) -> Result<HaMessage, Unreadable> {
        let wire: Wire<'_> = serde_json::from_str(text).map_err(|_| Unreadable::NotAMessage)?;
        let need_id = |id: Option<u64>| id.ok_or_else(|| Unreadable::NoId(wire.kind.to_string()));
        Ok(match wire.kind.as_ref() {
            "auth_required" => HaMessage::AuthRequired,
            "auth_ok" => HaMessage::AuthOk {
                ha_version: wire.ha_version,
            },
            "auth_invalid" => HaMessage::AuthInvalid {
                message: wire.message,
            },
            "result" => HaMessage::Result {
                id: need_id(wire.id)?,
                outcome: if wire.success == Some(true) {
                    Ok(wire.result.map_or_else(null, RawValue::to_owned))
                } else {
                    Err(wire.error.unwrap_or_default())
                },
            },
            "pong" => HaMessage::Pong {
                id: need_id(wire.id)?,
            },
            "event" => HaMessage::Event {
                id: need_id(wire.id)?,
                event: wire.event.map_or_else(null, RawValue::to_owned),
            },
            other => HaMessage::Other {
                kind: other.to_owned(),
            },
        })
    }

    /// The message's type, for errors and debug lines.
    pub(crate) fn kind(&self) -> &str {
        match self {
            HaMessage::AuthRequired => "auth_required",
            HaMessage::AuthOk { .. } => "auth_ok",
            HaMessage::AuthInvalid { .. } => "auth_invalid",
            HaMessage::Result { .. } => "result",
            HaMessage::Pong { .. } => "pong",
            HaMessage::Event { .. } => "event",
            HaMessage::Other { kind, .. } => kind,
        }
    }

    /// Bytes the message holds (what a backlog counts).
    pub(crate) fn size(&self) -> usize {
        match self {
            HaMessage::Result { outcome: Ok(r), .. } => r.get().len() + 64,
            HaMessage::Result {
                outcome: Err(f), ..
            } => f.code.len() + f.message.len() + 64,
            HaMessage::Event { event, .. } => event.get().len() + 64,
            HaMessage::Other { kind, .. } => kind.len() + 64,
            _ => 64,
        }
    }
}

/// JSON `null`, for a result or event that carries nothing.
pub(crate) fn null() -> Box<RawValue> {
    RawValue::from_string(NULL.to_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_type() {
        let m = HaMessage::parse(r#"{"type":"result","id":3,"success":true,"result":[1,2]}"#);
        assert!(
            matches!(m, Ok(HaMessage::Result { id: 3, outcome: Ok(ref r) }) if r.get() == "[1,2]")
        );
        let m = HaMessage::parse(
            r#"{"type":"result","id":4,"success":false,"error":{"code":"x","message":"y"}}"#,
        );
        assert!(matches!(m, Ok(HaMessage::Result { id: 4, outcome: Err(ref f) }) if f.code == "x"));
        let m = HaMessage::parse(r#"{"id":5,"type":"event","event":{"a":1}}"#);
        assert!(matches!(m, Ok(HaMessage::Event { id: 5, .. })));
        assert!(matches!(
            HaMessage::parse(r#"{"type":"pong"}"#),
            Err(Unreadable::NoId(_))
        ));
        assert!(matches!(
            HaMessage::parse("not json"),
            Err(Unreadable::NotAMessage)
        ));
    }
}
