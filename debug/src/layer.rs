//! The formatting layer: renders the framework's lines as `[<cid>] [<SCOPE>-DEBUG] ...` in
//! text, or as one JSON object per line when Lambda's log format is JSON.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::io::Write;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use crate::sanitize::{escape_line, is_unsafe_in_a_line};
use crate::secrets::{redact, redact_json};

/// How lines are written.
///
/// ```
/// std::env::set_var("AWS_LAMBDA_LOG_FORMAT", "JSON");
/// assert_eq!(debug::LogFormat::from_env(), debug::LogFormat::Json);
/// std::env::remove_var("AWS_LAMBDA_LOG_FORMAT");
/// assert_eq!(debug::LogFormat::from_env(), debug::LogFormat::Text);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `[<cid>] [<SCOPE>-DEBUG] message`, one line each.
    Text,
    /// `{"timestamp":..,"level":"INFO","target":..,"fields":{"message":..,"correlation_id":..,"scope":..,"kind":..}}`.
    Json,
}

impl LogFormat {
    /// JSON when `AWS_LAMBDA_LOG_FORMAT` is `JSON` (any case), text otherwise.
    pub fn from_env() -> LogFormat {
        match std::env::var("AWS_LAMBDA_LOG_FORMAT") {
            Ok(v) if v.trim().eq_ignore_ascii_case("json") => LogFormat::Json,
            _ => LogFormat::Text,
        }
    }
}

/// The correlation id a span carries, kept in the span's extensions.
pub(crate) struct SpanCorrelation(pub(crate) String);

/// Renders events at `INFO` and above; the framework's lines get their tag, others their
/// level and target. Every value is escaped so no line can forge another.
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
/// let subscriber = tracing_subscriber::registry()
///     .with(debug::LogLayer::new(debug::LogFormat::Text, std::io::stderr));
/// tracing::subscriber::with_default(subscriber, || tracing::info!("hello"));
/// ```
#[derive(Debug)]
pub struct LogLayer<W> {
    format: LogFormat,
    make_writer: W,
}

impl<W> LogLayer<W>
where
    W: for<'w> MakeWriter<'w> + 'static,
{
    /// A layer writing `format` lines to `make_writer`.
    pub fn new(format: LogFormat, make_writer: W) -> Self {
        LogLayer {
            format,
            make_writer,
        }
    }
}

/// Installs the framework's layer as the process's subscriber, writing to `make_writer`
/// in the format Lambda asks for. Does nothing when a subscriber is already installed.
///
/// ```
/// debug::install(std::io::stderr);
/// ```
pub fn install<W>(make_writer: W)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    use tracing_subscriber::layer::SubscriberExt;
    let subscriber =
        tracing_subscriber::registry().with(LogLayer::new(LogFormat::from_env(), make_writer));
    let _ = tracing::subscriber::set_global_default(subscriber);
}

#[derive(Default)]
struct Fields {
    message: String,
    scope: Option<String>,
    kind: Option<String>,
    correlation_id: Option<String>,
    rest: Vec<(&'static str, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "scope" => self.scope = Some(value.to_owned()),
            "kind" => self.kind = Some(value.to_owned()),
            "correlation_id" => self.correlation_id = Some(value.to_owned()),
            "message" => self.message = value.to_owned(),
            name => self.rest.push((name, value.to_owned())),
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => {
                let _ = write!(self.message, "{value:?}");
            }
            "correlation_id" => self.correlation_id = Some(format!("{value:?}")),
            name => self.rest.push((name, format!("{value:?}"))),
        }
    }
}

impl<S, W> Layer<S> for LogLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn enabled(&self, metadata: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        *metadata.level() <= Level::INFO
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let (Some(cid), Some(span)) = (fields.correlation_id, ctx.span(id)) {
            span.extensions_mut().insert(SpanCorrelation(cid));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let metadata = event.metadata();
        if *metadata.level() > Level::INFO {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let cid = ctx.event_scope(event).and_then(|scope| {
            scope.into_iter().find_map(|span| {
                span.extensions()
                    .get::<SpanCorrelation>()
                    .map(|c| c.0.clone())
            })
        });
        // Secrets are taken out of the finished line, whoever wrote its parts: a server
        // may have reflected one into any value.
        let line = match self.format {
            LogFormat::Text => {
                let line = text_line(metadata, &fields, cid.as_deref());
                match redact(&line) {
                    Cow::Borrowed(_) => line,
                    Cow::Owned(clean) => clean,
                }
            }
            LogFormat::Json => {
                let record = json_line(metadata, fields, cid);
                escape_beyond_json(&redact_json(&record)).into_owned()
            }
        };
        let mut writer = self.make_writer.make_writer_for(metadata);
        let _ = writer.write_all(line.as_bytes());
    }
}

fn text_line(metadata: &Metadata<'_>, fields: &Fields, cid: Option<&str>) -> String {
    let mut line = String::with_capacity(fields.message.len() + 48);
    let _ = write!(line, "[{}] ", escape_line(cid.unwrap_or("-")));
    match (&fields.scope, &fields.kind) {
        (Some(scope), Some(kind)) => {
            let _ = write!(line, "[{}-{}] ", escape_line(scope), kind.to_uppercase());
        }
        _ => {
            let _ = write!(line, "{} {}: ", metadata.level(), metadata.target());
        }
    }
    line.push_str(&escape_line(&fields.message));
    for (name, value) in &fields.rest {
        let _ = write!(line, " {name}={}", escape_line(value));
    }
    line.push('\n');
    line
}

fn json_line(metadata: &Metadata<'_>, fields: Fields, cid: Option<String>) -> String {
    let mut map = serde_json::Map::new();
    map.insert("message".into(), fields.message.into());
    if let Some(cid) = cid {
        map.insert("correlation_id".into(), cid.into());
    }
    if let Some(scope) = fields.scope {
        map.insert("scope".into(), scope.into());
    }
    if let Some(kind) = fields.kind {
        map.insert("kind".into(), kind.into());
    }
    for (name, value) in fields.rest {
        map.insert(name.into(), value.into());
    }
    let record = serde_json::json!({
        "timestamp": humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string(),
        "level": metadata.level().as_str(),
        "target": metadata.target(),
        "fields": map,
    });
    // serde_json escapes C0 controls, so one record stays one line for a JSON reader;
    // escape_beyond_json takes care of the readers that split on more.
    format!("{record}\n")
}

/// `record` (serialized JSON) with the characters serde_json leaves raw but that end a line
/// for JavaScript or Python's `splitlines()`, or reorder what a person reads — DEL, the C1
/// controls, U+2028, U+2029, the bidi marks, overrides and isolates — written as `\uXXXX`.
/// Outside strings JSON text is ASCII, so every such character is inside a string, where the
/// escape means the same character.
///
/// ```text
/// {"message":"a\u2028b"}
/// ```
fn escape_beyond_json(record: &str) -> Cow<'_, str> {
    let unsafe_raw = |c: char| c as u32 >= 0x7f && is_unsafe_in_a_line(c);
    if !record.chars().any(unsafe_raw) {
        return Cow::Borrowed(record);
    }
    let mut out = String::with_capacity(record.len() + 16);
    for c in record.chars() {
        if unsafe_raw(c) {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_records_escape_what_splits_or_reorders_lines() {
        for c in [
            '\u{2028}', '\u{2029}', '\u{202e}', '\u{2066}', '\u{7f}', '\u{85}', '\u{9f}',
        ] {
            let record = serde_json::json!({ "message": format!("a{c}b") }).to_string();
            let escaped = escape_beyond_json(&record);
            assert!(!escaped.contains(c), "{c:?} left raw in {escaped}");
            let back: serde_json::Value = serde_json::from_str(&escaped).unwrap();
            assert_eq!(back["message"], format!("a{c}b"));
        }
    }
}
