//! The JSON envelope every answer at a JSON boundary takes, built as text: a message kept
//! as raw JSON is written into it once, never turned into a tree.

use std::fmt;

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::code::codes;
use crate::failure::Failure;

/// One answer, serialized: `{"success": true, "message": ..., "data": ...}` or
/// `{"success": false, "error": ..., "error_code": ..., "details": ...}`.
///
/// ```
/// let e = contract::Envelope::success("Done", &serde_json::json!({"n": 1}));
/// assert!(e.is_success());
/// assert_eq!(e.as_str(), r#"{"success":true,"message":"Done","data":{"n":1}}"#);
/// ```
#[derive(Debug, Clone)]
pub struct Envelope {
    text: Box<RawValue>,
    /// The failure it was written from; `None` for a success.
    failure: Option<Box<Failure>>,
}

#[derive(Serialize)]
struct SuccessBody<'a, T: ?Sized> {
    success: bool,
    message: &'a str,
    data: &'a T,
}

#[derive(Serialize)]
struct FailureBody<'a> {
    success: bool,
    error: &'a str,
    error_code: &'a str,
    details: &'a serde_json::Map<String, Value>,
}

/// A buffer that refuses to grow past its limit, so an answer too large to return is never
/// built whole.
struct Bounded {
    buf: Vec<u8>,
    limit: usize,
}

/// The error [`Bounded`] answers once its limit would be passed.
#[derive(Debug)]
struct OverLimit;

impl fmt::Display for OverLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("over the limit")
    }
}

impl std::error::Error for OverLimit {}

impl std::io::Write for Bounded {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + data.len() > self.limit {
            return Err(std::io::Error::other(OverLimit));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Envelope {
    /// A success with `message` and `data`.
    pub fn success<T: Serialize + ?Sized>(message: &str, data: &T) -> Envelope {
        Envelope::success_within(message, data, usize::MAX)
            .unwrap_or_else(|f| Envelope::failure(&f))
    }

    /// A success with `message` and `data` when it serializes to at most `limit` bytes,
    /// else the `MESSAGE_TOO_LARGE` failure, for the caller to add its details to; the text
    /// is never built beyond `limit`.
    ///
    /// ```
    /// let failure = contract::Envelope::success_within("Done", &"x".repeat(100), 64).unwrap_err();
    /// assert_eq!(failure.code, contract::codes::MESSAGE_TOO_LARGE);
    /// ```
    pub fn success_within<T: Serialize + ?Sized>(
        message: &str,
        data: &T,
        limit: usize,
    ) -> Result<Envelope, Failure> {
        let body = SuccessBody {
            success: true,
            message,
            data,
        };
        let mut out = Bounded {
            buf: Vec::new(),
            limit,
        };
        let written = serde_json::to_writer(&mut out, &body);
        let problem = match written {
            Ok(()) => match String::from_utf8(out.buf).map(RawValue::from_string) {
                Ok(Ok(text)) => {
                    return Ok(Envelope {
                        text,
                        failure: None,
                    })
                }
                _ => "The result is not valid JSON.".to_owned(),
            },
            Err(e) if e.is_io() => {
                return Err(Failure::new(
                    codes::MESSAGE_TOO_LARGE,
                    format!("The answer would be larger than {limit} bytes."),
                )
                .with_detail("max_response_size", limit))
            }
            Err(e) => format!("The result could not be serialized: {e}."),
        };
        Err(Failure::new(codes::SERIALIZATION_FAILED, problem))
    }

    /// A failure.
    ///
    /// ```
    /// let failure = contract::Failure::new(contract::codes::RATE_LIMIT_EXCEEDED, "Slow down.");
    /// let e = contract::Envelope::failure(&failure);
    /// assert_eq!(e.to_value()["error_code"], "RATE_LIMIT_EXCEEDED");
    /// ```
    pub fn failure(failure: &Failure) -> Envelope {
        let body = FailureBody {
            success: false,
            error: &failure.message,
            error_code: failure.code.as_str(),
            details: &failure.details,
        };
        // Strings and a map of values: serializing cannot fail.
        let text = serde_json::value::to_raw_value(&body).unwrap_or_else(|_| {
            RawValue::from_string(
                r#"{"success":false,"error":"The error could not be serialized.","error_code":"SERIALIZATION_FAILED","details":{}}"#
                    .to_owned(),
            )
            .unwrap_or_default()
        });
        Envelope {
            text,
            failure: Some(Box::new(failure.clone())),
        }
    }

    /// Whether it is a success.
    pub fn is_success(&self) -> bool {
        self.failure.is_none()
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        self.text.get()
    }

    /// The size of the JSON text in bytes.
    pub fn len(&self) -> usize {
        self.text.get().len()
    }

    /// Whether the text is empty (never: an envelope is an object).
    pub fn is_empty(&self) -> bool {
        self.text.get().is_empty()
    }

    /// For a failure envelope, `change` changes the failure and the envelope is written
    /// again; a success is returned as it is.
    ///
    /// ```
    /// use contract::{codes, Envelope, Failure};
    /// let e = Envelope::failure(&Failure::new(codes::RATE_LIMIT_EXCEEDED, "Slow down."))
    ///     .map_failure(|f| f.details.insert("cut_by_deadline".into(), true.into()).map(drop).unwrap_or(()));
    /// assert_eq!(e.to_value()["details"]["cut_by_deadline"], true);
    /// ```
    pub fn map_failure(self, change: impl FnOnce(&mut Failure)) -> Envelope {
        match self.failure {
            None => self,
            Some(mut failure) => {
                change(&mut failure);
                Envelope::failure(&failure)
            }
        }
    }

    /// The failure's code, for a failure envelope.
    pub fn error_code(&self) -> Option<crate::ErrorCode> {
        self.failure.as_ref().map(|f| f.code)
    }

    /// The envelope as a value (a tree is built; for callers that want one).
    pub fn to_value(&self) -> Value {
        serde_json::from_str(self.text.get()).unwrap_or(Value::Null)
    }
}

impl Serialize for Envelope {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.text.serialize(serializer)
    }
}

impl fmt::Display for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text.get())
    }
}
