//! The kinds of message at the JSON boundary: what `send` takes, what `receive` and
//! `request` expect, and how what arrived is answered.

use base64::Engine as _;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;
use websocket::Message;

use crate::error::{Error, Result};
use crate::params::JsonMessage;

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// What to send: exactly one of `message` (JSON, sent as a text frame), `text` or `binary`
/// (base64).
///
/// ```
/// use interface::Payload;
/// let p = Payload::from_fields(None, Some("hello".into()), None).unwrap();
/// assert_eq!(p.into_message(), websocket::Message::text("hello"));
/// assert!(Payload::from_fields(None, None, None).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// A JSON object or array, sent as one text frame.
    Json(JsonMessage),
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
}

impl Payload {
    /// The payload from the event's three fields, exactly one of which must be given.
    pub fn from_fields(
        message: Option<JsonMessage>,
        text: Option<String>,
        binary: Option<Base64>,
    ) -> Result<Payload> {
        match (message, text, binary) {
            (Some(m), None, None) => Ok(Payload::Json(m)),
            (None, Some(t), None) => Ok(Payload::Text(t)),
            (None, None, Some(b)) => Ok(Payload::Binary(b.0)),
            (None, None, None) => Err(Error::invalid_parameter("message", "is required")),
            (_, Some(_), _) => Err(Error::invalid_parameter(
                "text",
                "cannot be given with message or binary: give exactly one",
            )),
            (_, _, Some(_)) => Err(Error::invalid_parameter(
                "binary",
                "cannot be given with message or text: give exactly one",
            )),
        }
    }

    /// The frame to send.
    pub fn into_message(self) -> Message {
        match self {
            Payload::Json(json) => Message::Text(json.into_string()),
            Payload::Text(text) => Message::Text(text),
            Payload::Binary(bytes) => Message::Binary(bytes),
        }
    }

    /// The JSON message, for a JSON payload.
    pub fn json(&self) -> Option<&JsonMessage> {
        match self {
            Payload::Json(json) => Some(json),
            _ => None,
        }
    }
}

/// Bytes given as base64 (standard alphabet, padded).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Base64(pub Vec<u8>);

impl TryFrom<String> for Base64 {
    type Error = &'static str;
    fn try_from(text: String) -> std::result::Result<Self, Self::Error> {
        BASE64
            .decode(text.as_bytes())
            .map(Base64)
            .map_err(|_| "must be base64 (standard alphabet, padded)")
    }
}

/// What a receive accepts: `json` (the default: a text frame holding JSON), `text`,
/// `binary` or `any`.
///
/// ```
/// let e: interface::Expect = serde_json::from_value(serde_json::json!("any")).unwrap();
/// assert_eq!(e, interface::Expect::Any);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(try_from = "String")]
pub enum Expect {
    /// A text frame holding JSON (answered in `message` / `response`).
    #[default]
    Json,
    /// A text frame (answered in `text`).
    Text,
    /// A binary frame (answered in `binary`, base64).
    Binary,
    /// Either (answered with `kind` and the matching field).
    Any,
}

impl TryFrom<String> for Expect {
    type Error = &'static str;
    fn try_from(text: String) -> std::result::Result<Self, Self::Error> {
        match text.as_str() {
            "json" => Ok(Expect::Json),
            "text" => Ok(Expect::Text),
            "binary" => Ok(Expect::Binary),
            "any" => Ok(Expect::Any),
            _ => Err("must be json, text, binary or any"),
        }
    }
}

/// A message received, as the caller expected it.
#[derive(Debug, Clone)]
pub enum Content {
    /// A text frame holding JSON, kept as its text (checked, no tree built).
    Json(Box<RawValue>),
    /// A text frame, asked for as `text`.
    Text(String),
    /// A binary frame, asked for as `binary`.
    Binary(Vec<u8>),
    /// Whatever came, asked for as `any`.
    Any(Message),
}

impl Content {
    /// Checks `message` against `expect`: a frame of another kind, or text that is not JSON
    /// where JSON was expected, is `WEBSOCKET_PARSE_FAILED`.
    ///
    /// ```
    /// use interface::{Content, Expect};
    /// use websocket::Message;
    /// let c = Content::expect(Message::text(r#"{"a":1}"#), Expect::Json).unwrap();
    /// assert_eq!(c.to_value().unwrap()["a"], 1);
    /// assert!(Content::expect(Message::binary(vec![1]), Expect::Text).is_err());
    /// ```
    pub fn expect(message: Message, expect: Expect) -> Result<Content> {
        match (expect, message) {
            (Expect::Json, message) => crate::decode(message).map(Content::Json),
            (Expect::Text, Message::Text(text)) => Ok(Content::Text(text)),
            (Expect::Binary, Message::Binary(bytes)) => Ok(Content::Binary(bytes)),
            (Expect::Any, message) => Ok(Content::Any(message)),
            (Expect::Text, Message::Binary(bytes)) => Err(Error::UnexpectedBinary {
                length: bytes.len(),
                expected: "text frame",
            }),
            (Expect::Binary, Message::Text(text)) => {
                Err(Error::UnexpectedText { length: text.len() })
            }
        }
    }

    /// The JSON text, for JSON content.
    pub fn json(&self) -> Option<&RawValue> {
        match self {
            Content::Json(v) => Some(v),
            _ => None,
        }
    }

    /// The JSON content as a value (a tree is built: the caller asked for one).
    pub fn to_value(&self) -> Option<Value> {
        self.json()
            .and_then(|raw| serde_json::from_str(raw.get()).ok())
    }

    /// `json`, `text` or `binary`: what the content holds.
    pub fn kind(&self) -> &'static str {
        match self {
            Content::Json(_) => "json",
            Content::Text(_) => "text",
            Content::Binary(_) => "binary",
            Content::Any(m) => m.kind(),
        }
    }

    /// Writes the content's fields into a map being serialized: JSON under `json_key`,
    /// text under `text`, binary as base64 under `binary`, and `kind` for `any`.
    pub(crate) fn serialize_fields<M: serde::ser::SerializeMap>(
        &self,
        map: &mut M,
        json_key: &'static str,
    ) -> std::result::Result<(), M::Error> {
        match self {
            Content::Json(raw) => map.serialize_entry(json_key, raw),
            Content::Text(t) => map.serialize_entry("text", t),
            Content::Binary(b) => map.serialize_entry("binary", &BASE64.encode(b)),
            Content::Any(Message::Text(t)) => {
                map.serialize_entry("kind", "text")?;
                map.serialize_entry("text", t)
            }
            Content::Any(Message::Binary(b)) => {
                map.serialize_entry("kind", "binary")?;
                map.serialize_entry("binary", &BASE64.encode(b))
            }
        }
    }
}

impl PartialEq for Content {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Content::Json(a), Content::Json(b)) => a.get() == b.get(),
            (Content::Text(a), Content::Text(b)) => a == b,
            (Content::Binary(a), Content::Binary(b)) => a == b,
            (Content::Any(a), Content::Any(b)) => a == b,
            _ => false,
        }
    }
}

impl Serialize for Base64 {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&BASE64.encode(&self.0))
    }
}
