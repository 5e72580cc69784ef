//! What may appear in a debug line: URLs without credentials, message keys without values,
//! and no character that could end a line or disguise one.

use std::borrow::Cow;
use std::fmt::Write;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A URL fit for logs: userinfo, query string and fragment removed. Text that does not
/// parse as a URL is replaced, since it could be anything, a token included.
///
/// ```
/// assert_eq!(debug::redact_url("wss://user:pw@example.com/api?token=s3cret"), "wss://example.com/api");
/// assert_eq!(debug::redact_url("wss://example.com"), "wss://example.com");
/// assert_eq!(debug::redact_url("not a url"), "<invalid url>");
/// ```
pub fn redact_url(raw: &str) -> String {
    let Ok(url) = url::Url::parse(raw) else {
        return "<invalid url>".to_owned();
    };
    let mut out = format!("{}://", url.scheme());
    if let Some(host) = url.host_str() {
        out.push_str(host);
    }
    if let Some(port) = url.port() {
        out.push(':');
        out.push_str(&port.to_string());
    }
    let path = url.path();
    // The url crate normalises "wss://h" to "wss://h/"; show what the caller wrote.
    if path != "/"
        || raw
            .split(['?', '#'])
            .next()
            .is_some_and(|p| p.ends_with('/'))
    {
        out.push_str(path);
    }
    out
}

/// The keys of a JSON message given as text, in order, as `['type', 'data']`; never the
/// values. Arrays show their length, scalars their kind. No tree is built: values are
/// skipped as they are read.
///
/// ```
/// assert_eq!(debug::message_keys(r#"{"type": "auth", "access_token": "secret"}"#), "['type', 'access_token']");
/// assert_eq!(debug::message_keys("[1, 2]"), "<array of 2>");
/// assert_eq!(debug::message_keys("not json"), "<not json>");
/// ```
pub fn message_keys(json: &str) -> String {
    serde_json::from_str::<Shape>(json)
        .map(|shape| shape.0)
        .unwrap_or_else(|_| "<not json>".to_owned())
}

/// What [`message_keys`] shows of a JSON value.
struct Shape(String);

impl<'de> Deserialize<'de> for Shape {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ShapeVisitor)
    }
}

struct ShapeVisitor;

impl<'de> Visitor<'de> for ShapeVisitor {
    type Value = Shape;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        let mut keys = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            map.next_value::<IgnoredAny>()?;
            keys.push(format!("'{key}'"));
        }
        Ok(Shape(format!("[{}]", keys.join(", "))))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
        let mut n = 0usize;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            n += 1;
        }
        Ok(Shape(format!("<array of {n}>")))
    }

    fn visit_unit<E>(self) -> Result<Shape, E> {
        Ok(Shape("<null>".into()))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Shape, E> {
        Ok(Shape("<bool>".into()))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Shape, E> {
        Ok(Shape("<number>".into()))
    }

    fn visit_u64<E>(self, _: u64) -> Result<Shape, E> {
        Ok(Shape("<number>".into()))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Shape, E> {
        Ok(Shape("<number>".into()))
    }

    fn visit_str<E>(self, _: &str) -> Result<Shape, E> {
        Ok(Shape("<string>".into()))
    }
}

/// Seconds for a debug line: at most three decimals, no trailing zeros (`10`, `2.5`, `9.499`).
///
/// ```
/// use std::time::Duration;
/// assert_eq!(debug::seconds(Duration::from_secs(10)), "10");
/// assert_eq!(debug::seconds(Duration::from_millis(2500)), "2.5");
/// assert_eq!(debug::seconds(Duration::from_nanos(9_499_967_391)), "9.5");
/// ```
pub fn seconds(duration: std::time::Duration) -> String {
    let text = format!("{:.3}", duration.as_secs_f64());
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Whether `c` could end a log line or disguise one: control characters, the Unicode line
/// and paragraph separators, and the bidirectional overrides and isolates.
///
/// ```
/// assert!(debug::is_unsafe_in_a_line('\n'));
/// assert!(debug::is_unsafe_in_a_line('\u{2028}'));
/// assert!(debug::is_unsafe_in_a_line('\u{202e}'));
/// assert!(!debug::is_unsafe_in_a_line('é'));
/// ```
pub fn is_unsafe_in_a_line(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
                | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with every character [`is_unsafe_in_a_line`] written as `\u{..}`, so one value
/// can never become two lines or hide what follows it.
///
/// ```
/// assert_eq!(debug::escape_line("a\nb"), "a\\u{a}b");
/// assert_eq!(debug::escape_line("plain"), "plain");
/// ```
pub fn escape_line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe_in_a_line) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe_in_a_line(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}
