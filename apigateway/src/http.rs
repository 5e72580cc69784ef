//! An HTTP API request (payload format 2.0) or a function URL request, read with
//! `aws_lambda_events`' type: the management routes beside the WebSocket ones.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use base64::Engine;
use serde_json::Value;

use crate::error::{quoted, Error, Result};

/// One HTTP request: method, path (the stage prefix removed), headers, body.
///
/// ```
/// let r = apigateway::HttpRequest::from_value(serde_json::json!({
///     "version": "2.0", "routeKey": "GET /api/v1/websocket/stats", "rawPath": "/prod/api/v1/websocket/stats",
///     "headers": {"authorization": "Bearer x"},
///     "requestContext": {"http": {"method": "GET", "path": "/prod/api/v1/websocket/stats"}, "stage": "prod"},
///     "isBase64Encoded": false})).unwrap();
/// assert_eq!((r.method(), r.path()), ("GET", "/api/v1/websocket/stats"));
/// assert_eq!(r.header("Authorization"), Some("Bearer x"));
/// ```
#[derive(Debug, Clone)]
pub struct HttpRequest {
    request: ApiGatewayV2httpRequest,
    method: String,
    path: String,
    body: Option<String>,
}

impl HttpRequest {
    /// Whether `value` looks like an HTTP API (2.0) or function URL request.
    pub fn is_http(value: &Value) -> bool {
        value.get("version").and_then(Value::as_str) == Some("2.0")
            && value
                .get("requestContext")
                .and_then(|c| c.get("http"))
                .is_some()
    }

    /// Reads a request; one that does not read is [`Error::EventInvalid`].
    pub fn from_value(value: Value) -> Result<HttpRequest> {
        let request: ApiGatewayV2httpRequest =
            serde_json::from_value(value).map_err(|e| Error::EventInvalid {
                problem: format!("not an HTTP API request ({})", quoted(&e.to_string())).into(),
            })?;
        let method = request.request_context.http.method.as_str().to_owned();
        let raw = request
            .raw_path
            .clone()
            .or_else(|| request.request_context.http.path.clone())
            .unwrap_or_default();
        let path = match request.request_context.stage.as_deref() {
            Some(stage) if stage != "$default" => raw
                .strip_prefix(&format!("/{stage}"))
                .filter(|rest| rest.starts_with('/'))
                .map_or(raw.clone(), str::to_owned),
            _ => raw,
        };
        let body = match (&request.body, request.is_base64_encoded) {
            (None, _) => None,
            (Some(text), false) => Some(text.clone()),
            (Some(encoded), true) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .map_err(|_| Error::EventInvalid {
                        problem: "the body is not base64".into(),
                    })?;
                Some(String::from_utf8(bytes).map_err(|_| Error::EventInvalid {
                    problem: "the body is not UTF-8 text".into(),
                })?)
            }
        };
        Ok(HttpRequest {
            request,
            method,
            path,
            body,
        })
    }

    /// The method, upper case.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The path, without the stage prefix.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// A header, case-insensitive.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.request.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as text.
    pub fn body(&self) -> Option<&str> {
        self.body.as_deref()
    }

    /// The request id (for log lines).
    pub fn request_id(&self) -> &str {
        self.request
            .request_context
            .request_id
            .as_deref()
            .unwrap_or_default()
    }
}
