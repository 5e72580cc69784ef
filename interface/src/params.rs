//! Reading parameters out of a JSON object, with errors that name the parameter.

use std::time::Duration;

use serde_json::{Map, Value};
use websocket::{validate_timeout, Error, Result, DEFAULT_TIMEOUT};

/// Longest caller-supplied correlation id.
const MAX_CORRELATION_ID_LEN: usize = 128;

/// The parameters of one operation.
pub(crate) struct Params<'a> {
    map: Option<&'a Map<String, Value>>,
}

impl<'a> Params<'a> {
    /// `params` must be an object, or null / absent for operations without parameters.
    pub(crate) fn new(params: &'a Value) -> Result<Self> {
        match params {
            Value::Object(map) => Ok(Params { map: Some(map) }),
            Value::Null => Ok(Params { map: None }),
            _ => Err(Error::invalid_parameter("params", "must be a JSON object")),
        }
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.and_then(|m| m.get(name)).filter(|v| !v.is_null())
    }

    pub(crate) fn required_str(&self, name: &str) -> Result<String> {
        match self.get(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(Error::invalid_parameter(name, "must be a string")),
            None => Err(Error::invalid_parameter(name, "is required")),
        }
    }

    pub(crate) fn required_message(&self, name: &str) -> Result<Value> {
        match self.get(name) {
            Some(v @ (Value::Object(_) | Value::Array(_))) => Ok(v.clone()),
            Some(_) => Err(Error::invalid_parameter(
                name,
                "must be a JSON object or array",
            )),
            None => Err(Error::invalid_parameter(name, "is required")),
        }
    }

    /// Seconds as a number; absent means the default (10 s).
    pub(crate) fn timeout(&self) -> Result<Duration> {
        match self.get("timeout") {
            None => Ok(DEFAULT_TIMEOUT),
            Some(Value::Number(n)) => validate_timeout(n.as_f64().unwrap_or(f64::NAN)),
            Some(_) => Err(Error::invalid_parameter(
                "timeout",
                "must be a number of seconds",
            )),
        }
    }

    /// Seconds as a number, or `None` when absent.
    pub(crate) fn optional_timeout(&self) -> Result<Option<Duration>> {
        match self.get("timeout") {
            None => Ok(None),
            Some(_) => self.timeout().map(Some),
        }
    }

    /// The caller's correlation id, unchanged, or a new one.
    pub(crate) fn correlation_id(&self) -> Result<String> {
        match self.get("correlation_id") {
            None => Ok(debug::generate_correlation_id()),
            Some(Value::String(s)) => check_correlation_id(s).map(|()| s.clone()),
            Some(_) => Err(Error::invalid_parameter(
                "correlation_id",
                "must be a string",
            )),
        }
    }
}

/// A correlation id is printed in every log line: it must be short and free of control
/// characters, so a caller cannot forge lines.
pub(crate) fn check_correlation_id(id: &str) -> Result<()> {
    if id.is_empty() || id.len() > MAX_CORRELATION_ID_LEN || id.chars().any(char::is_control) {
        Err(Error::invalid_parameter(
            "correlation_id",
            "must be 1 to 128 characters without control characters",
        ))
    } else {
        Ok(())
    }
}

/// The caller's correlation id, checked and unchanged, or a new one when none was given.
///
/// ```
/// assert_eq!(interface::correlation_id(Some("req-42")).unwrap(), "req-42");
/// assert_eq!(interface::correlation_id(None).unwrap().len(), 13);
/// assert!(interface::correlation_id(Some("a\nforged line")).is_err());
/// ```
pub fn correlation_id(given: Option<&str>) -> Result<String> {
    match given {
        Some(id) => check_correlation_id(id).map(|()| id.to_owned()),
        None => Ok(debug::generate_correlation_id()),
    }
}
