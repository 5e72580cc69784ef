//! API Gateway's WebSocket events, read with `aws_lambda_events`' types: what a route
//! handler needs, checked once.

use std::collections::BTreeMap;

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use serde_json::Value;

use crate::error::{quoted, Error, Result};

/// Which of API Gateway's three kinds of event it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// `$connect`: the upgrade waits for the answer.
    Connect,
    /// `$disconnect`: best effort, AWS may never send it.
    Disconnect,
    /// A message, on `$default` or a custom route.
    Message,
}

/// One WebSocket event: its kind, route, connection, body and what `$connect` carries.
///
/// ```
/// let event = apigateway::WsEvent::parse(r#"{"requestContext": {"routeKey": "$default",
///     "eventType": "MESSAGE", "connectionId": "L0SM9cOFvHcCIhw=", "connectedAt": 1795305600000,
///     "requestTimeEpoch": 1795305601000, "domainName": "abc.execute-api.eu-west-1.amazonaws.com",
///     "stage": "prod", "apiId": "abc"}, "body": "{\"type\":\"ping\"}", "isBase64Encoded": false}"#)?;
/// assert_eq!(event.kind(), apigateway::EventKind::Message);
/// assert_eq!(event.connection_id(), "L0SM9cOFvHcCIhw=");
/// # Ok::<(), apigateway::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct WsEvent {
    request: ApiGatewayWebsocketProxyRequest,
    kind: EventKind,
    connection_id: String,
    route_key: String,
}

/// Connection ids are at most this long (API Gateway's are 16 characters).
pub const MAX_CONNECTION_ID_LEN: usize = 128;

impl WsEvent {
    /// Reads an event from its JSON text. Not JSON, no `requestContext`, no
    /// `connectionId` or `routeKey`, or an `eventType` that is not `CONNECT`, `DISCONNECT`
    /// or `MESSAGE` is [`Error::EventInvalid`].
    pub fn parse(text: &str) -> Result<WsEvent> {
        let value: Value = serde_json::from_str(text).map_err(|_| invalid("it is not JSON"))?;
        WsEvent::from_value(value)
    }

    /// [`WsEvent::parse`] of a value.
    pub fn from_value(value: Value) -> Result<WsEvent> {
        let Some(context) = value.get("requestContext").and_then(Value::as_object) else {
            return Err(invalid("it has no requestContext"));
        };
        for field in ["connectedAt", "requestTimeEpoch"] {
            if !context.get(field).is_some_and(Value::is_i64) {
                return Err(invalid(&format!("requestContext.{field} is not a number")));
            }
        }
        let request: ApiGatewayWebsocketProxyRequest =
            serde_json::from_value(value).map_err(|e| {
                invalid(&format!(
                    "it does not read as one ({})",
                    quoted(&e.to_string())
                ))
            })?;
        let context = &request.request_context;
        let connection_id = context
            .connection_id
            .clone()
            .filter(|id| !id.is_empty())
            .ok_or_else(|| invalid("requestContext.connectionId is missing"))?;
        if connection_id.len() > MAX_CONNECTION_ID_LEN
            || connection_id.chars().any(char::is_control)
        {
            return Err(invalid(
                "requestContext.connectionId is not a connection id",
            ));
        }
        let route_key = context
            .route_key
            .clone()
            .filter(|r| !r.is_empty())
            .ok_or_else(|| invalid("requestContext.routeKey is missing"))?;
        let kind = match (context.event_type.as_deref(), route_key.as_str()) {
            (Some("CONNECT"), _) | (None, "$connect") => EventKind::Connect,
            (Some("DISCONNECT"), _) | (None, "$disconnect") => EventKind::Disconnect,
            (Some("MESSAGE"), _) | (None, _) => EventKind::Message,
            (Some(other), _) => {
                return Err(invalid(&format!(
                    "requestContext.eventType '{}' is not CONNECT, DISCONNECT or MESSAGE",
                    quoted(other)
                )))
            }
        };
        Ok(WsEvent {
            request,
            kind,
            connection_id,
            route_key,
        })
    }

    /// Its kind.
    pub fn kind(&self) -> EventKind {
        self.kind
    }

    /// The route key: `$connect`, `$disconnect`, `$default` or a custom one.
    pub fn route_key(&self) -> &str {
        &self.route_key
    }

    /// The connection's id.
    pub fn connection_id(&self) -> &str {
        &self.connection_id
    }

    /// When the connection was made, epoch milliseconds (`requestContext.connectedAt`).
    pub fn connected_at_ms(&self) -> i64 {
        self.request.request_context.connected_at
    }

    /// When this request came, epoch milliseconds (`requestContext.requestTimeEpoch`).
    pub fn request_time_ms(&self) -> i64 {
        self.request.request_context.request_time_epoch
    }

    /// The message body as text (base64 bodies decoded are not supported: binary frames
    /// are refused by API Gateway unless configured).
    pub fn body(&self) -> Option<&str> {
        self.request.body.as_deref()
    }

    /// Whether API Gateway marked the body base64 (a binary frame).
    pub fn is_binary(&self) -> bool {
        self.request.is_base64_encoded
    }

    /// A query string parameter (only `$connect` has them).
    pub fn query(&self, name: &str) -> Option<&str> {
        self.request.query_string_parameters.first(name)
    }

    /// A header, case-insensitive (only `$connect` has them).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.request.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The principal a REQUEST authorizer put into `requestContext.authorizer`
    /// (`principalId`), which AWS passes on every later route too.
    pub fn authorizer_principal(&self) -> Option<&str> {
        self.request
            .request_context
            .authorizer
            .fields
            .get("principalId")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
    }

    /// What the authorizer put into its context, as strings, numbers and booleans.
    pub fn authorizer_context(&self) -> BTreeMap<String, Value> {
        self.request
            .request_context
            .authorizer
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// `domainName`, `stage` and `apiId` of the API (the Management API's address).
    pub fn api(&self) -> (Option<&str>, Option<&str>, Option<&str>) {
        let c = &self.request.request_context;
        (
            c.domain_name.as_deref(),
            c.stage.as_deref(),
            c.apiid.as_deref(),
        )
    }

    /// `disconnectStatusCode` and `disconnectReason` of a `$disconnect`.
    pub fn disconnect(&self) -> (Option<i64>, Option<&str>) {
        let c = &self.request.request_context;
        (c.disconnect_status_code, c.disconnect_reason.as_deref())
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

fn invalid(problem: &str) -> Error {
    Error::EventInvalid {
        problem: problem.into(),
    }
}
