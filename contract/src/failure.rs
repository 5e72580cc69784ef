//! The error half of an envelope.

use std::fmt;

use serde_json::{Map, Value};

use crate::code::ErrorCode;

/// The error half of an envelope: a code, one plain sentence and structured details.
///
/// Each crate turns its own errors into one (`From<&Error> for Failure`), in one place.
///
/// ```
/// use contract::{codes, Failure};
/// let failure = Failure::new(codes::INVALID_PARAMETER, "Invalid parameter 'url'.")
///     .with_detail("parameter", "url");
/// assert_eq!(failure.details["parameter"], "url");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The stable code.
    pub code: ErrorCode,
    /// One sentence, no secrets.
    pub message: String,
    /// Structured details (phase, parameter, connection, correlation id, ...).
    pub details: Map<String, Value>,
}

impl Failure {
    /// A failure with no details.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
            details: Map::new(),
        }
    }

    /// Adds one detail (replacing an earlier value under the same key).
    pub fn with_detail(mut self, key: &str, value: impl Into<Value>) -> Failure {
        self.details.insert(key.to_owned(), value.into());
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

impl From<&Failure> for Failure {
    fn from(f: &Failure) -> Failure {
        f.clone()
    }
}
