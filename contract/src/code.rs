//! Error codes: an open set. A code is a stable, machine-readable name; each crate declares
//! the constants of its own failures (`websocket::codes`, `home_assistant::codes`, ...), and
//! one workspace test checks that no two crates declare the same name and that the docs list
//! every one.

use std::fmt;

/// A stable error code of the JSON envelope (`"error_code"`), such as `INVALID_PARAMETER`.
///
/// ```
/// const MY_FAILURE: contract::ErrorCode = contract::ErrorCode::new("MY_FAILURE");
/// assert_eq!(MY_FAILURE.as_str(), "MY_FAILURE");
/// assert_eq!(MY_FAILURE.to_string(), "MY_FAILURE");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ErrorCode(&'static str);

impl ErrorCode {
    /// A code named `name` (upper snake case by convention).
    pub const fn new(name: &'static str) -> ErrorCode {
        ErrorCode(name)
    }

    /// The code as it appears in the envelope.
    pub const fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

/// The codes both halves use.
pub mod codes {
    use super::ErrorCode;

    /// A parameter is missing, has the wrong type or an invalid value; `details.parameter`
    /// names it.
    pub const INVALID_PARAMETER: ErrorCode = ErrorCode::new("INVALID_PARAMETER");
    /// The operation name is not one the entry point knows.
    pub const UNKNOWN_OPERATION: ErrorCode = ErrorCode::new("UNKNOWN_OPERATION");
    /// A rate limit refused the operation.
    pub const RATE_LIMIT_EXCEEDED: ErrorCode = ErrorCode::new("RATE_LIMIT_EXCEEDED");
    /// A message, or an answer, exceeds its size limit.
    pub const MESSAGE_TOO_LARGE: ErrorCode = ErrorCode::new("MESSAGE_TOO_LARGE");
    /// Required configuration (an environment variable) is missing or unusable.
    pub const CONFIG_MISSING: ErrorCode = ErrorCode::new("CONFIG_MISSING");
    /// Configuration is set but malformed (a `WS_*` variable that does not parse, a secret
    /// that cannot be read); `details.variable` names it.
    pub const CONFIG_INVALID: ErrorCode = ErrorCode::new("CONFIG_INVALID");
    /// An answer of our own could not be serialized (not expected to happen).
    pub const SERIALIZATION_FAILED: ErrorCode = ErrorCode::new("SERIALIZATION_FAILED");

    /// Every code this crate declares.
    pub const ALL: &[ErrorCode] = &[
        INVALID_PARAMETER,
        UNKNOWN_OPERATION,
        RATE_LIMIT_EXCEEDED,
        MESSAGE_TOO_LARGE,
        CONFIG_MISSING,
        CONFIG_INVALID,
        SERIALIZATION_FAILED,
    ];
}
