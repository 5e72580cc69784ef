//! What can go wrong on the server half's floor, and how it reads in an envelope.

use contract::{codes as ground, ErrorCode, Failure};

use crate::codes;

/// Why a store operation or an event failed.
///
/// ```
/// let e = apigateway::Error::NoConnection { connection_id: "abc=".into() };
/// assert_eq!(e.code(), apigateway::codes::APIGW_NO_CONNECTION);
/// assert_eq!(e.to_string(), "No live connection 'abc='.");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parameter is missing, ill-typed or out of its bounds.
    #[error("Invalid parameter '{name}': {problem}.")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// What is wrong, as a clause (no secret, no value quoted whole).
        problem: Box<str>,
    },
    /// The event is not an API Gateway WebSocket event.
    #[error("Not an API Gateway WebSocket event: {problem}.")]
    EventInvalid {
        /// What is missing or wrong.
        problem: Box<str>,
    },
    /// No handler serves the route.
    #[error("No handler for route '{route}'.")]
    UnknownRoute {
        /// The route key (escaped, at most 64 characters).
        route: Box<str>,
    },
    /// No live connection has this id.
    #[error("No live connection '{connection_id}'.")]
    NoConnection {
        /// The id.
        connection_id: Box<str>,
    },
    /// A bound of the store was reached.
    #[error("{what} is at its limit of {limit}.")]
    LimitExceeded {
        /// What is bounded.
        what: &'static str,
        /// The bound.
        limit: usize,
    },
    /// `$connect` carried no credential that verifies (answered 401).
    #[error("Not authenticated: {reason}.")]
    Unauthorized {
        /// Why, as a clause (never the token).
        reason: Box<str>,
    },
    /// Authenticated, but not allowed (answered 403).
    #[error("Not allowed: {reason}.")]
    Forbidden {
        /// Why, as a clause.
        reason: Box<str>,
    },
    /// DynamoDB failed a request.
    #[error("The connection store failed: {operation} ({reason}).")]
    Store {
        /// The DynamoDB operation.
        operation: &'static str,
        /// DynamoDB's error code or the transport's failure, never a value.
        reason: Box<str>,
    },
}

/// Result of the server half's floor.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A missing, ill-typed or out-of-bounds parameter.
    pub fn invalid(name: &'static str, problem: impl Into<Box<str>>) -> Error {
        Error::InvalidParameter {
            name,
            problem: problem.into(),
        }
    }

    /// The envelope code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidParameter { .. } => ground::INVALID_PARAMETER,
            Error::EventInvalid { .. } => codes::APIGW_EVENT_INVALID,
            Error::UnknownRoute { .. } => codes::APIGW_UNKNOWN_ROUTE,
            Error::NoConnection { .. } => codes::APIGW_NO_CONNECTION,
            Error::LimitExceeded { .. } => codes::APIGW_LIMIT_EXCEEDED,
            Error::Store { .. } => codes::APIGW_STORE_FAILED,
            Error::Unauthorized { .. } => codes::APIGW_UNAUTHORIZED,
            Error::Forbidden { .. } => codes::APIGW_FORBIDDEN,
        }
    }
}

impl From<&Error> for Failure {
    fn from(e: &Error) -> Failure {
        let failure = Failure::new(e.code(), debug::redact(&e.to_string()).into_owned());
        match e {
            Error::InvalidParameter { name, .. } => failure.with_detail("parameter", *name),
            Error::UnknownRoute { route } => failure.with_detail("route_key", route.as_ref()),
            Error::NoConnection { connection_id } => {
                failure.with_detail("connection_id", connection_id.as_ref())
            }
            Error::LimitExceeded { what, limit } => failure
                .with_detail("limit", *limit)
                .with_detail("what", *what),
            Error::Store { operation, .. } => failure.with_detail("operation", *operation),
            Error::EventInvalid { .. } | Error::Unauthorized { .. } | Error::Forbidden { .. } => {
                failure
            }
        }
    }
}

/// A value from outside, fit to quote in an error: control characters escaped, at most 64
/// characters.
pub(crate) fn quoted(value: &str) -> Box<str> {
    let escaped: String = value
        .chars()
        .flat_map(char::escape_debug)
        .take(64)
        .collect();
    escaped.into()
}
