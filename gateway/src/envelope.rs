//! The JSON envelope every answer at a JSON boundary takes, built as text: a message kept
//! as raw JSON is written into it once, never turned into a tree.

use std::fmt;

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::codes::{ErrorCode, Failure};
use crate::Reply;

/// One answer, serialized: `{"success": true, "message": ..., "data": ...}` or
/// `{"success": false, "error": ..., "error_code": ..., "details": ...}`.
///
/// ```
/// let e = gateway::Envelope::success("Done", &serde_json::json!({"n": 1}));
/// assert!(e.is_success());
/// assert_eq!(e.as_str(), r#"{"success":true,"message":"Done","data":{"n":1}}"#);
/// ```
#[derive(Debug, Clone)]
pub struct Envelope {
    text: Box<RawValue>,
    success: bool,
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
    /// let failure = gateway::Envelope::success_within("Done", &"x".repeat(100), 64).unwrap_err();
    /// assert_eq!(failure.code, gateway::ErrorCode::MessageTooLarge);
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
                        success: true,
                    })
                }
                _ => "The result is not valid JSON.".to_owned(),
            },
            Err(e) if e.is_io() => {
                return Err(Failure::new(
                    ErrorCode::MessageTooLarge,
                    format!("The answer would be larger than {limit} bytes."),
                )
                .with_detail("max_response_size", limit))
            }
            Err(e) => format!("The result could not be serialized: {e}."),
        };
        Err(Failure::new(ErrorCode::WebsocketParseFailed, problem))
    }

    /// A failure.
    ///
    /// ```
    /// let failure = gateway::Failure::new(gateway::ErrorCode::WebsocketTimeout, "Timed out.");
    /// let e = gateway::Envelope::failure(&failure);
    /// assert_eq!(e.to_value()["error_code"], "WEBSOCKET_TIMEOUT");
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
                r#"{"success":false,"error":"The error could not be serialized.","error_code":"WEBSOCKET_PARSE_FAILED","details":{}}"#
                    .to_owned(),
            )
            .unwrap_or_default()
        });
        Envelope {
            text,
            success: false,
        }
    }

    /// The envelope of a result whose success is a [`Reply`] and whose error reads as a
    /// [`Failure`].
    pub fn of<T: Reply, E>(result: &Result<T, E>) -> Envelope
    where
        for<'e> Failure: From<&'e E>,
    {
        match result {
            Ok(reply) => Envelope::success(reply.summary(), reply),
            Err(e) => Envelope::failure(&Failure::from(e)),
        }
    }

    /// Whether it is a success.
    pub fn is_success(&self) -> bool {
        self.success
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

    /// For a failure envelope, `failure` changes the failure (a small object: reading it
    /// back costs nothing worth counting); a success is returned as it is.
    ///
    /// ```
    /// use gateway::{Envelope, ErrorCode, Failure};
    /// let e = Envelope::failure(&Failure::new(ErrorCode::WebsocketTimeout, "Timed out."))
    ///     .map_failure(|f| f.details.insert("cut_by_deadline".into(), true.into()).map(drop).unwrap_or(()));
    /// assert_eq!(e.to_value()["details"]["cut_by_deadline"], true);
    /// ```
    pub fn map_failure(self, change: impl FnOnce(&mut Failure)) -> Envelope {
        if self.success {
            return self;
        }
        let value = self.to_value();
        let code = value["error_code"].as_str().unwrap_or_default();
        let Some(code) = ErrorCode::ALL.into_iter().find(|c| c.as_str() == code) else {
            return self;
        };
        let mut failure = Failure::new(code, value["error"].as_str().unwrap_or_default());
        if let Some(details) = value["details"].as_object() {
            failure.details = details.clone();
        }
        change(&mut failure);
        Envelope::failure(&failure)
    }

    /// The failure's code, for a failure envelope.
    pub fn error_code(&self) -> Option<ErrorCode> {
        if self.success {
            return None;
        }
        #[derive(serde::Deserialize)]
        struct Code<'a> {
            #[serde(borrow)]
            error_code: &'a str,
        }
        let code: Code<'_> = serde_json::from_str(self.text.get()).ok()?;
        ErrorCode::ALL
            .into_iter()
            .find(|c| c.as_str() == code.error_code)
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

/// `{"success": true, "message": ..., "data": ...}` as a value.
///
/// ```
/// let e = gateway::success_envelope("Done", serde_json::json!({"n": 1}));
/// assert_eq!(e, serde_json::json!({"success": true, "message": "Done", "data": {"n": 1}}));
/// ```
pub fn success_envelope(message: &str, data: Value) -> Value {
    json!({"success": true, "message": message, "data": data})
}

/// `{"success": false, "error": ..., "error_code": ..., "details": ...}` as a value.
///
/// ```
/// let failure = gateway::Failure::new(gateway::ErrorCode::WebsocketTimeout, "Timed out.");
/// let e = gateway::error_envelope(&failure);
/// assert_eq!(e["error_code"], "WEBSOCKET_TIMEOUT");
/// assert_eq!(e["details"], serde_json::json!({}));
/// ```
pub fn error_envelope(failure: &Failure) -> Value {
    Envelope::failure(failure).to_value()
}

/// The envelope of any result, as a value (see [`Envelope::of`]).
///
/// ```
/// let stats: Result<gateway::Stats, gateway::Error> = Ok(gateway::websocket_get_stats());
/// let e = gateway::envelope(&stats);
/// assert_eq!(e["success"], true);
/// assert_eq!(e["data"]["max_rate_limit"], 300);
/// ```
pub fn envelope<T: Reply, E>(result: &Result<T, E>) -> Value
where
    for<'e> Failure: From<&'e E>,
{
    Envelope::of(result).to_value()
}
