//! Parameter types that validate themselves, and reading an event with serde into errors
//! that name the parameter.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::{Error, Result};

/// Longest timeout accepted: Lambda's own maximum run time.
pub const MAX_TIMEOUT_SECS: f64 = 900.0;

/// Timeout when a caller gives none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

const TIMEOUT_RANGE: &str = "must be a number of seconds greater than 0 and at most 900";

/// A timeout in seconds: a finite number in (0, 900]. Absent means 10 s.
///
/// ```
/// use interface::Timeout;
/// assert_eq!(Timeout::from_secs_f64(2.5).unwrap().get(), std::time::Duration::from_millis(2500));
/// assert!(Timeout::from_secs_f64(0.0).is_err());
/// assert!(Timeout::new(std::time::Duration::from_secs(901)).is_err());
/// assert_eq!(Timeout::default().get(), std::time::Duration::from_secs(10));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Seconds")]
pub struct Timeout(Duration);

/// A JSON number, named for the error serde writes when something else is given.
#[derive(Deserialize)]
#[serde(transparent)]
struct Seconds(#[serde(deserialize_with = "seconds")] f64);

fn seconds<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    struct Visitor;
    impl serde::de::Visitor<'_> for Visitor {
        type Value = f64;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a number of seconds")
        }
        fn visit_f64<E>(self, v: f64) -> std::result::Result<f64, E> {
            Ok(v)
        }
        fn visit_i64<E>(self, v: i64) -> std::result::Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_u64<E>(self, v: u64) -> std::result::Result<f64, E> {
            Ok(v as f64)
        }
    }
    d.deserialize_f64(Visitor)
}

impl TryFrom<Seconds> for Timeout {
    type Error = &'static str;
    fn try_from(s: Seconds) -> std::result::Result<Self, Self::Error> {
        Timeout::from_secs_f64(s.0).map_err(|_| TIMEOUT_RANGE)
    }
}

/// A timeout as a caller gives it: a [`Duration`], checked here, or a [`Timeout`], checked
/// already — so a value read and checked at a boundary is not checked again below it.
///
/// ```
/// use interface::{IntoTimeout, Timeout};
/// use std::time::Duration;
/// assert!(Duration::from_secs(5).into_timeout().is_ok());
/// assert!(Duration::ZERO.into_timeout().is_err());
/// let checked = Timeout::new(Duration::from_secs(5)).unwrap();
/// assert_eq!(checked.into_timeout().unwrap(), checked);
/// ```
pub trait IntoTimeout {
    /// The checked timeout.
    fn into_timeout(self) -> Result<Timeout>;
}

impl IntoTimeout for Duration {
    fn into_timeout(self) -> Result<Timeout> {
        Timeout::new(self)
    }
}

impl IntoTimeout for Timeout {
    fn into_timeout(self) -> Result<Timeout> {
        Ok(self)
    }
}

impl Timeout {
    /// Checks a timeout given as a [`Duration`].
    pub fn new(timeout: Duration) -> Result<Timeout> {
        Timeout::from_secs_f64(timeout.as_secs_f64())
    }

    /// Checks a timeout given in seconds.
    pub fn from_secs_f64(seconds: f64) -> Result<Timeout> {
        if seconds.is_finite() && seconds > 0.0 && seconds <= MAX_TIMEOUT_SECS {
            Ok(Timeout(Duration::from_secs_f64(seconds)))
        } else {
            Err(Error::invalid_parameter("timeout", TIMEOUT_RANGE))
        }
    }

    /// The checked duration.
    pub fn get(self) -> Duration {
        self.0
    }

    /// This timeout, or `budget` when that is shorter (a Lambda invocation's time left).
    /// The result may be zero; a zero timeout fails at once in the phase it reaches.
    pub fn cut_to(self, budget: Duration) -> Timeout {
        Timeout(self.0.min(budget))
    }
}

impl Default for Timeout {
    fn default() -> Self {
        Timeout(DEFAULT_TIMEOUT)
    }
}

/// A JSON message to send: an object or an array, kept as the caller's text (no tree is
/// built, so a message costs its size).
///
/// ```
/// use interface::JsonMessage;
/// let m = JsonMessage::new(&serde_json::json!({"type": "ping"})).unwrap();
/// assert_eq!(m.as_str(), r#"{"type":"ping"}"#);
/// assert!(JsonMessage::new(&serde_json::json!("text")).is_err());
/// ```
#[derive(Debug, Clone)]
pub struct JsonMessage(Box<RawValue>);

const OBJECT_OR_ARRAY: &str = "must be a JSON object or array";

impl<'de> Deserialize<'de> for JsonMessage {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        JsonMessage::from_raw(raw).map_err(|_| serde::de::Error::custom(OBJECT_OR_ARRAY))
    }
}

impl PartialEq for JsonMessage {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
    }
}

impl JsonMessage {
    /// Checks a message given as a value: an object or an array.
    pub fn new(message: &Value) -> Result<JsonMessage> {
        if !(message.is_object() || message.is_array()) {
            return Err(Error::invalid_parameter("message", OBJECT_OR_ARRAY));
        }
        serde_json::value::to_raw_value(message)
            .map(JsonMessage)
            .map_err(|e| {
                Error::invalid_parameter("message", &format!("cannot be serialized ({e})"))
            })
    }

    fn from_raw(raw: Box<RawValue>) -> std::result::Result<JsonMessage, ()> {
        match raw.get().trim_start().as_bytes().first() {
            Some(b'{' | b'[') => Ok(JsonMessage(raw)),
            _ => Err(()),
        }
    }

    /// The message's JSON text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// The message's JSON text, taken out.
    pub fn into_string(self) -> String {
        Box::<str>::from(self.0).into_string()
    }
}

/// Reads `event` into `T` with serde. A missing parameter, a wrong type or an invalid value
/// is `INVALID_PARAMETER` naming the parameter in the caller's terms (`must be a string`,
/// `is required`); unknown fields are ignored.
///
/// ```
/// #[derive(Debug, serde::Deserialize)]
/// struct Ask { entity_id: String }
/// let err = interface::from_event::<Ask>(serde_json::json!({})).unwrap_err();
/// assert_eq!(err.to_string(), "Invalid parameter 'entity_id': is required.");
/// let err = interface::from_event::<Ask>(serde_json::json!({"entity_id": 3})).unwrap_err();
/// assert_eq!(err.to_string(), "Invalid parameter 'entity_id': must be a string.");
/// ```
pub fn from_event<T: DeserializeOwned>(event: Value) -> Result<T> {
    from_event_text(&event.to_string())
}

/// [`from_event`] on the event's JSON text: nothing is built but `T`, so a large message
/// in the event costs its size, not a tree.
///
/// ```
/// #[derive(Debug, serde::Deserialize)]
/// struct Ask { entity_id: String }
/// let ask: Ask = interface::from_event_text(r#"{"entity_id": "light.kitchen"}"#).unwrap();
/// assert_eq!(ask.entity_id, "light.kitchen");
/// ```
pub fn from_event_text<T: DeserializeOwned>(event: &str) -> Result<T> {
    let mut deserializer = serde_json::Deserializer::from_str(event);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let field = e.path().iter().find_map(|segment| match segment {
            serde_path_to_error::Segment::Map { key } => Some(key.clone()),
            _ => None,
        });
        let text = e.into_inner().to_string();
        // serde_json ends its messages with the position; the caller needs the parameter.
        let text = match text.rfind(" at line ") {
            Some(at) => &text[..at],
            None => text.as_str(),
        };
        if let Some(missing) = missing_field(text) {
            return Error::invalid_parameter(missing, "is required");
        }
        let name = field.unwrap_or_else(|| "event".to_owned());
        Error::invalid_parameter(&name, &problem(text))
    })
}

/// serde's wording for a missing field: "missing field `url`".
fn missing_field(text: &str) -> Option<&str> {
    text.strip_prefix("missing field `")?.split('`').next()
}

/// The caller's terms for what serde found wrong.
fn problem(text: &str) -> String {
    if text.starts_with("must ") {
        return text.to_owned();
    }
    let expected = text.rsplit(", expected ").next().unwrap_or("");
    match expected {
        "a string" => "must be a string".to_owned(),
        "a boolean" => "must be true or false".to_owned(),
        "a map" => "must be a JSON object".to_owned(),
        "a number of seconds" => "must be a number of seconds".to_owned(),
        _ => "has the wrong type".to_owned(),
    }
}

/// Extra headers of an upgrade request, read from a JSON object of strings and checked
/// ([`websocket::ConnectOptions::check`]). `Debug` shows names only: values are secrets.
///
/// ```
/// let h: interface::Headers = serde_json::from_str(r#"{"Authorization": "Bearer x"}"#).unwrap();
/// assert_eq!(h.0[0].0, "Authorization");
/// assert!(serde_json::from_str::<interface::Headers>(r#"{"Host": "x"}"#).is_err());
/// assert!(serde_json::from_str::<interface::Headers>(r#"{"X-A": 1}"#).is_err());
/// assert!(!format!("{h:?}").contains("Bearer"));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<(String, String)>);

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_tuple("Headers").field(&names).finish()
    }
}

impl<'de> serde::Deserialize<'de> for Headers {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(d)
            .map_err(|_| serde::de::Error::custom("must be an object of strings"))?;
        let mut headers = Vec::with_capacity(map.len());
        for (name, value) in map {
            let serde_json::Value::String(value) = value else {
                return Err(serde::de::Error::custom("must be an object of strings"));
            };
            headers.push((name, value));
        }
        let mut options = websocket::ConnectOptions::default();
        options.headers = headers;
        checked(&options)?;
        Ok(Headers(options.headers))
    }
}

/// Subprotocols offered, read from a JSON array of tokens.
///
/// ```
/// let s: interface::Subprotocols = serde_json::from_str(r#"["realtime", "json"]"#).unwrap();
/// assert_eq!(s.0, ["realtime", "json"]);
/// assert!(serde_json::from_str::<interface::Subprotocols>(r#"["a b"]"#).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subprotocols(pub Vec<String>);

impl<'de> serde::Deserialize<'de> for Subprotocols {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let subprotocols = Vec::<String>::deserialize(d)
            .map_err(|_| serde::de::Error::custom("must be an array of strings"))?;
        let mut options = websocket::ConnectOptions::default();
        options.subprotocols = subprotocols;
        checked(&options)?;
        Ok(Subprotocols(options.subprotocols))
    }
}

fn checked<E: serde::de::Error>(options: &websocket::ConnectOptions) -> std::result::Result<(), E> {
    match options.check() {
        Ok(()) => Ok(()),
        Err(websocket::Error::InvalidOption(problem)) => Err(E::custom(&problem.problem)),
        Err(other) => Err(E::custom(other)),
    }
}

/// A keepalive interval as a caller gives it: a number of seconds in (0, 900], or
/// `"none"` to turn the check off.
///
/// ```
/// let on: interface::PingInterval = serde_json::from_str("20").unwrap();
/// assert_eq!(on.0, Some(std::time::Duration::from_secs(20)));
/// let off: interface::PingInterval = serde_json::from_str(r#""none""#).unwrap();
/// assert_eq!(off.0, None);
/// assert!(serde_json::from_str::<interface::PingInterval>("0").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PingInterval(pub Option<Duration>);

impl<'de> serde::Deserialize<'de> for PingInterval {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Given {
            Seconds(f64),
            Word(String),
        }
        const RANGE: &str =
            "must be a number of seconds greater than 0 and at most 900, or \"none\"";
        match Given::deserialize(d).map_err(|_| serde::de::Error::custom(RANGE))? {
            Given::Word(w) if w.eq_ignore_ascii_case("none") => Ok(PingInterval(None)),
            Given::Seconds(s) => Timeout::from_secs_f64(s)
                .map(|t| PingInterval(Some(t.get())))
                .map_err(|_| serde::de::Error::custom(RANGE)),
            Given::Word(_) => Err(serde::de::Error::custom(RANGE)),
        }
    }
}

/// A size in bytes: a whole number from 1 to [`websocket::MAX_SIZE_LIMIT`] (256 MiB).
///
/// ```
/// let size: interface::ByteSize = serde_json::from_str("1024").unwrap();
/// assert_eq!(size.0, 1024);
/// assert!(serde_json::from_str::<interface::ByteSize>("0").is_err());
/// assert!(serde_json::from_str::<interface::ByteSize>("1.5").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub usize);

impl<'de> serde::Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let range = || {
            serde::de::Error::custom(format!(
                "must be a whole number of bytes from 1 to {}",
                websocket::MAX_SIZE_LIMIT
            ))
        };
        let n = u64::deserialize(d).map_err(|_| range())?;
        match usize::try_from(n) {
            Ok(n) if (1..=websocket::MAX_SIZE_LIMIT).contains(&n) => Ok(ByteSize(n)),
            _ => Err(range()),
        }
    }
}

/// The per-call connection options of `connect` and `request` as an event spells them:
/// `headers`, `subprotocols`, `open_timeout`, `close_timeout`, `ping_interval`,
/// `ping_timeout`, `max_message_size`, `max_frame_size`, `reconnect` — each absent one
/// takes the core's setting.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct OptionFields {
    pub headers: Headers,
    pub subprotocols: Subprotocols,
    pub open_timeout: Option<Timeout>,
    pub close_timeout: Option<Timeout>,
    pub ping_interval: Option<PingInterval>,
    pub ping_timeout: Option<Timeout>,
    pub max_message_size: Option<ByteSize>,
    pub max_frame_size: Option<ByteSize>,
    pub reconnect: Option<bool>,
}

impl OptionFields {
    pub(crate) fn into_options(self) -> websocket::ConnectOptions {
        let mut options = websocket::ConnectOptions::default();
        options.headers = self.headers.0;
        options.subprotocols = self.subprotocols.0;
        options.open_timeout = self.open_timeout.map(Timeout::get);
        options.close_timeout = self.close_timeout.map(Timeout::get);
        options.ping_interval = self.ping_interval.map(|p| p.0);
        options.ping_timeout = self.ping_timeout.map(Timeout::get);
        options.max_message_size = self.max_message_size.map(|s| s.0);
        options.max_frame_size = self.max_frame_size.map(|s| s.0);
        options.reconnect_enabled = self.reconnect;
        options
    }
}
