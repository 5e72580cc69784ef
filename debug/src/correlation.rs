//! Correlation ids: checked when a caller gives one, generated otherwise, and carried by a
//! `tracing` span rather than by every function's parameters.

use std::cell::RefCell;
use std::fmt;

/// Length of a generated correlation id.
pub const CORRELATION_ID_LEN: usize = 13;

/// Longest caller-supplied correlation id, in characters.
pub const MAX_CORRELATION_ID_CHARS: usize = 128;

/// The id of one logical request, printed in every line the request causes.
///
/// A caller's id is used unchanged when it is 1–128 characters with no control or
/// line-separating characters, so it cannot forge log lines.
///
/// ```
/// use debug::CorrelationId;
/// assert_eq!(CorrelationId::parse("req-42").unwrap().as_str(), "req-42");
/// assert!(CorrelationId::parse("a\nforged line").is_err());
/// assert_eq!(CorrelationId::generate().as_str().len(), debug::CORRELATION_ID_LEN);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CorrelationId(String);

/// A caller-supplied correlation id was empty, too long or held control characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 1 to 128 characters without control characters")]
pub struct InvalidCorrelationId;

impl CorrelationId {
    /// Checks a caller's id.
    pub fn parse(id: &str) -> Result<CorrelationId, InvalidCorrelationId> {
        if id.is_empty()
            || id.chars().count() > MAX_CORRELATION_ID_CHARS
            || id.chars().any(crate::sanitize::is_unsafe_in_a_line)
        {
            Err(InvalidCorrelationId)
        } else {
            Ok(CorrelationId(id.to_owned()))
        }
    }

    /// A new id: the first 13 characters of a random UUID v4 (`xxxxxxxx-xxxx`, 48 random
    /// bits).
    pub fn generate() -> CorrelationId {
        let mut buf = uuid::Uuid::encode_buffer();
        let full = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
        CorrelationId(full[..CORRELATION_ID_LEN].to_owned())
    }

    /// The caller's id when given (checked), else the id of the request this thread works
    /// for ([`current`]), else a new one.
    ///
    /// ```
    /// let id = debug::CorrelationId::given_or_current(None).unwrap();
    /// assert_eq!(id.as_str().len(), 13);
    /// ```
    pub fn given_or_current(given: Option<&str>) -> Result<CorrelationId, InvalidCorrelationId> {
        match given {
            Some(id) => CorrelationId::parse(id),
            None => Ok(current().unwrap_or_else(CorrelationId::generate)),
        }
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A span carrying this id; every line logged inside it is tagged with the id. Enter it
    /// with [`CorrelationId::enter`] on each thread that works for the request.
    pub fn span(&self) -> tracing::Span {
        tracing::info_span!(target: crate::TARGET, "correlation", correlation_id = %self.0)
    }

    /// Enters `span` (from [`CorrelationId::span`]) on this thread and makes this id
    /// [`current`] until the guard drops.
    ///
    /// ```
    /// let id = debug::CorrelationId::parse("req-7").unwrap();
    /// let span = id.span();
    /// {
    ///     let _in = id.enter(&span);
    ///     assert_eq!(debug::current().unwrap().as_str(), "req-7");
    /// }
    /// assert!(debug::current().is_none());
    /// ```
    pub fn enter<'a>(&self, span: &'a tracing::Span) -> Entered<'a> {
        CURRENT.with(|c| c.borrow_mut().push(self.clone()));
        Entered {
            _span: span.enter(),
        }
    }

    /// Makes this id current until the guard drops, opening and entering its span — unless
    /// it is current already, when nothing is opened (a gateway call inside an invocation
    /// logs under the invocation's span). The one way an entry point takes up an id.
    ///
    /// ```
    /// let id = debug::CorrelationId::parse("req-8").unwrap();
    /// let outer = id.scope();
    /// assert!(outer.opened());
    /// let inner = id.scope();
    /// assert!(!inner.opened());
    /// assert_eq!(debug::current().unwrap().as_str(), "req-8");
    /// ```
    pub fn scope(&self) -> Scoped {
        if current().as_ref() == Some(self) {
            return Scoped { entered: None };
        }
        CURRENT.with(|c| c.borrow_mut().push(self.clone()));
        Scoped {
            entered: Some(self.span().entered()),
        }
    }
}

/// Guard of [`CorrelationId::scope`].
#[derive(Debug)]
#[must_use = "the id is current only while the guard lives"]
pub struct Scoped {
    entered: Option<tracing::span::EnteredSpan>,
}

impl Scoped {
    /// Whether this guard opened a span (the id was not current before).
    pub fn opened(&self) -> bool {
        self.entered.is_some()
    }
}

impl Drop for Scoped {
    fn drop(&mut self) {
        if self.entered.take().is_some() {
            CURRENT.with(|c| {
                c.borrow_mut().pop();
            });
        }
    }
}

impl fmt::Display for CorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for CorrelationId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        CorrelationId::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for CorrelationId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl AsRef<str> for CorrelationId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

thread_local! {
    static CURRENT: RefCell<Vec<CorrelationId>> = const { RefCell::new(Vec::new()) };
}

/// The correlation id of the work at hand: read from the current span when a subscriber
/// with [`LogLayer`](crate::LogLayer) tracks spans — so async code under
/// `tracing::Instrument` sees its own task's id across `.await`s, whatever thread polls it —
/// else the id this thread entered last (no subscriber: spans are not tracked at all).
pub fn current() -> Option<CorrelationId> {
    from_span().or_else(|| CURRENT.with(|c| c.borrow().last().cloned()))
}

/// The id on the current span or its nearest ancestor that carries one.
fn from_span() -> Option<CorrelationId> {
    use tracing_subscriber::registry::LookupSpan;
    let span = tracing::Span::current();
    let id = span.id()?;
    tracing::dispatcher::get_default(|dispatch| {
        let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>()?;
        let span = registry.span(&id)?;
        span.scope().find_map(|s| {
            s.extensions()
                .get::<crate::layer::SpanCorrelation>()
                .map(|c| CorrelationId(c.0.clone()))
        })
    })
}

/// Guard of [`CorrelationId::enter`]: leaves the span and the id on drop.
#[derive(Debug)]
#[must_use = "the id is current only while the guard lives"]
pub struct Entered<'a> {
    _span: tracing::span::Entered<'a>,
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        CURRENT.with(|c| {
            c.borrow_mut().pop();
        });
    }
}

/// A new correlation id's text (see [`CorrelationId::generate`]).
///
/// ```
/// assert_eq!(debug::generate_correlation_id().len(), debug::CORRELATION_ID_LEN);
/// ```
pub fn generate_correlation_id() -> String {
    CorrelationId::generate().0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_count_characters_and_reject_separators() {
        assert!(CorrelationId::parse(&"x".repeat(128)).is_ok());
        assert!(CorrelationId::parse(&"x".repeat(129)).is_err());
        assert!(CorrelationId::parse(&"é".repeat(128)).is_ok());
        assert!(CorrelationId::parse("").is_err());
        assert!(CorrelationId::parse("a\u{2028}b").is_err());
        assert!(CorrelationId::parse("a\u{202e}b").is_err());
    }
}
