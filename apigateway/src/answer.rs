//! What a route answers API Gateway: a status, headers (`$connect`'s
//! `Sec-WebSocket-Protocol`) and, on a two-way route, a body AWS delivers to the sender.

use std::collections::BTreeMap;

use serde::Serialize;

/// An answer in API Gateway's shape: `{"statusCode": 200, "headers": {...}, "body": "..."}`.
///
/// ```
/// let a = apigateway::Answer::ok().with_header("Sec-WebSocket-Protocol", "bearer");
/// assert_eq!(a.to_json(), r#"{"statusCode":200,"headers":{"Sec-WebSocket-Protocol":"bearer"}}"#);
/// assert_eq!(apigateway::Answer::refuse(401).status_code, 401);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    /// The HTTP status: a non-2xx on `$connect` refuses the connection.
    pub status_code: u16,
    /// Headers (`$connect` only: others are ignored by AWS).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The body: delivered to the sender when the route has a route response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

impl Answer {
    /// `200` with nothing else.
    pub fn ok() -> Answer {
        Answer {
            status_code: 200,
            headers: BTreeMap::new(),
            body: None,
        }
    }

    /// A refusal (`$connect`: no connection exists after it).
    pub fn refuse(status_code: u16) -> Answer {
        Answer {
            status_code,
            ..Answer::ok()
        }
    }

    /// With a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Answer {
        self.headers.insert(name.to_owned(), value.to_owned());
        self
    }

    /// With a body.
    pub fn with_body(mut self, body: impl Into<String>) -> Answer {
        self.body = Some(body.into());
        self
    }

    /// Whether it accepts (2xx).
    pub fn accepts(&self) -> bool {
        (200..300).contains(&self.status_code)
    }

    /// Its JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| r#"{"statusCode":500}"#.to_owned())
    }
}
