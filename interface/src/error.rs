//! What can go wrong between a caller's parameters and the socket.

/// Why an operation failed: its parameters, its name, the reply's shape, or the socket
/// below ([`websocket::Error`], kept whole as the source).
///
/// ```
/// let err = interface::Error::invalid_parameter("timeout", "must be a number of seconds");
/// assert_eq!(err.to_string(), "Invalid parameter 'timeout': must be a number of seconds.");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The socket layer failed.
    #[error(transparent)]
    Websocket(#[from] websocket::Error),
    /// A parameter is missing, ill-typed or out of range.
    #[error("Invalid parameter '{name}': {problem}.")]
    InvalidParameter {
        /// The parameter's name.
        name: Box<str>,
        /// What is wrong with it.
        problem: Box<str>,
    },
    /// The operation name is not one the caller's entry point knows.
    #[error("Unknown {}: '{}'. Valid: {}", .0.family, .0.operation, .0.valid.join(", "))]
    UnknownOperation(Box<UnknownOperation>),
    /// A text message that should have been JSON is not.
    #[error("The server sent a text frame that is not JSON: {source}.")]
    NotJson {
        /// The text's first characters.
        preview: Box<str>,
        /// The text's length in bytes.
        length: usize,
        /// The parser's reason.
        #[source]
        source: serde_json::Error,
    },
    /// A binary message arrived where a text one was expected.
    #[error("Received a binary frame where a {expected} was expected.")]
    UnexpectedBinary {
        /// Its length in bytes.
        length: usize,
        /// What was expected ("JSON text frame", "text frame").
        expected: &'static str,
    },
    /// A text message arrived where a binary one was expected.
    #[error("Received a text frame where a binary frame was expected.")]
    UnexpectedText {
        /// Its length in bytes.
        length: usize,
    },
}

/// Result of every operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A missing, ill-typed or out-of-range parameter.
    pub fn invalid_parameter(name: &str, problem: &str) -> Error {
        Error::InvalidParameter {
            name: name.into(),
            problem: problem.into(),
        }
    }

    /// An operation name outside `valid`; what is shown of it is stripped of control
    /// characters and cut to 64 characters.
    ///
    /// ```
    /// let err = interface::Error::unknown_operation("fly\n", "operation", &["go"]);
    /// assert_eq!(err.to_string(), "Unknown operation: 'fly'. Valid: go");
    /// ```
    pub fn unknown_operation(given: &str, family: &'static str, valid: &[&'static str]) -> Error {
        let shown: String = given
            .chars()
            .filter(|c| !debug::is_unsafe_in_a_line(*c))
            .take(64)
            .collect();
        Error::UnknownOperation(Box::new(UnknownOperation {
            operation: shown,
            family,
            valid: valid.to_vec(),
        }))
    }
}

/// An operation name nobody knows, and the names that are known.
#[derive(Debug)]
pub struct UnknownOperation {
    /// The name given, without control characters, at most 64 characters.
    pub operation: String,
    /// What kind of operation was asked for ("WebSocket operation", "operation").
    pub family: &'static str,
    /// The names that are known.
    pub valid: Vec<&'static str>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn error_stays_small() {
        let size = std::mem::size_of::<super::Error>();
        assert!(size <= 40, "{size}");
    }
}
