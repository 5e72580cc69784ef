//! This crate's error codes and the one place its errors become an envelope's failure.

use contract::{codes as shared, ErrorCode, Failure};

use crate::Error;

/// A received message is not what was expected (not JSON, or binary).
pub const WEBSOCKET_PARSE_FAILED: ErrorCode = ErrorCode::new("WEBSOCKET_PARSE_FAILED");

/// Every code this crate declares (it also uses the shared `INVALID_PARAMETER` and
/// `UNKNOWN_OPERATION`, and passes on `websocket`'s).
pub const ALL: &[ErrorCode] = &[WEBSOCKET_PARSE_FAILED];

/// The code of an operation's error.
///
/// ```
/// let err = interface::Error::invalid_parameter("url", "is required");
/// assert_eq!(interface::codes::code_of(&err), contract::codes::INVALID_PARAMETER);
/// ```
pub fn code_of(e: &Error) -> ErrorCode {
    use Error as I;
    match e {
        I::Websocket(w) => websocket::codes::code_of(w),
        I::InvalidParameter { .. } => shared::INVALID_PARAMETER,
        I::UnknownOperation(_) => shared::UNKNOWN_OPERATION,
        I::NotJson { .. } | I::UnexpectedBinary { .. } | I::UnexpectedText { .. } => {
            WEBSOCKET_PARSE_FAILED
        }
    }
}

impl From<&Error> for Failure {
    fn from(e: &Error) -> Failure {
        use Error as I;
        if let I::Websocket(w) = e {
            return Failure::from(w);
        }
        let mut failure = Failure::new(code_of(e), e.to_string());
        let details = &mut failure.details;
        match e {
            I::InvalidParameter { name, .. } => {
                details.insert("parameter".into(), name.as_ref().into());
            }
            I::UnknownOperation(unknown) => {
                details.insert("operation".into(), unknown.operation.clone().into());
                details.insert("valid_operations".into(), unknown.valid.clone().into());
            }
            I::NotJson {
                preview, length, ..
            } => {
                details.insert("preview".into(), preview.as_ref().into());
                details.insert("length".into(), (*length).into());
            }
            I::UnexpectedBinary { length, .. } => {
                details.insert("frame".into(), "binary".into());
                details.insert("length".into(), (*length).into());
            }
            I::UnexpectedText { length } => {
                details.insert("frame".into(), "text".into());
                details.insert("length".into(), (*length).into());
            }
            _ => {}
        }
        failure
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::from(&e)
    }
}
