//! The client half's error codes, gathered in one place for its users: each is declared by
//! the crate whose errors it names (`contract` the shared ones, `websocket` the socket's,
//! `interface` the operations'), and each crate turns its own errors into a [`Failure`].

pub use contract::{ErrorCode, Failure};

/// Every code the client half's envelopes can carry below Home Assistant (whose own are in
/// `home_assistant::codes`).
///
/// ```
/// assert_eq!(gateway::codes::WEBSOCKET_TIMEOUT.as_str(), "WEBSOCKET_TIMEOUT");
/// assert!(gateway::codes::ALL.contains(&gateway::codes::INVALID_PARAMETER));
/// ```
pub mod codes {
    pub use contract::codes::{
        CONFIG_INVALID, CONFIG_MISSING, INVALID_PARAMETER, MESSAGE_TOO_LARGE, RATE_LIMIT_EXCEEDED,
        SERIALIZATION_FAILED, UNKNOWN_OPERATION,
    };
    pub use interface::codes::WEBSOCKET_PARSE_FAILED;
    pub use websocket::codes::{
        REGISTRY_FULL, WEBSOCKET_CONNECTION_CLOSED, WEBSOCKET_CONNECT_FAILED,
        WEBSOCKET_NO_CONNECTION, WEBSOCKET_RECEIVE_FAILED, WEBSOCKET_SEND_FAILED,
        WEBSOCKET_TIMEOUT, WEBSOCKET_TLS_FAILED,
    };

    /// The client half's codes below Home Assistant, shared ones included.
    pub const ALL: &[contract::ErrorCode] = &[
        INVALID_PARAMETER,
        UNKNOWN_OPERATION,
        RATE_LIMIT_EXCEEDED,
        REGISTRY_FULL,
        WEBSOCKET_CONNECT_FAILED,
        WEBSOCKET_TLS_FAILED,
        WEBSOCKET_TIMEOUT,
        WEBSOCKET_NO_CONNECTION,
        WEBSOCKET_CONNECTION_CLOSED,
        WEBSOCKET_SEND_FAILED,
        WEBSOCKET_RECEIVE_FAILED,
        WEBSOCKET_PARSE_FAILED,
        MESSAGE_TOO_LARGE,
        CONFIG_MISSING,
        CONFIG_INVALID,
        SERIALIZATION_FAILED,
    ];
}

/// The code of a socket error.
///
/// ```
/// let err = websocket::Error::RegistryFull { max: 1 };
/// assert_eq!(gateway::websocket_code(&err), gateway::codes::REGISTRY_FULL);
/// ```
pub fn websocket_code(e: &websocket::Error) -> ErrorCode {
    websocket::codes::code_of(e)
}

/// The code of an operation's error.
///
/// ```
/// let err = interface::Error::invalid_parameter("url", "is required");
/// assert_eq!(gateway::error_code(&err), gateway::codes::INVALID_PARAMETER);
/// ```
pub fn error_code(e: &interface::Error) -> ErrorCode {
    interface::codes::code_of(e)
}
