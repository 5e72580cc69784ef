//! The events API Gateway sends the function, in AWS's shape: every field
//! `aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest` reads, `connectedAt` the same
//! on every event of a connection.

use serde_json::{json, Map, Value};

use super::ids::{aws_id, now_ms, request_time};

/// The API the events come from.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    /// `127.0.0.1:PORT`: the emulator itself, where its Management API is.
    pub domain: String,
    pub stage: String,
    pub api_id: String,
}

/// What stays the same for every event of one connection.
#[derive(Debug, Clone)]
pub(crate) struct Peer {
    pub connection_id: String,
    pub connected_at: i64,
    pub source_ip: String,
    pub user_agent: String,
    /// `requestContext.authorizer` when an authorizer allowed the connection.
    pub authorizer: Option<Value>,
}

/// A request's headers or query string: names with every value, in order.
pub(crate) type Pairs = Vec<(String, String)>;

/// `{"name": last value}` and `{"name": [values]}`, as AWS gives both.
fn single_and_multi(pairs: &Pairs) -> (Value, Value) {
    let mut single = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    for (name, value) in pairs {
        single.insert(name.clone(), Value::String(value.clone()));
        match multi.get_mut(name) {
            Some(Value::Array(values)) => values.push(Value::String(value.clone())),
            _ => {
                multi.insert(name.clone(), json!([value]));
            }
        }
    }
    (Value::Object(single), Value::Object(multi))
}

fn context(
    api: &Api,
    peer: &Peer,
    route_key: &str,
    event_type: &str,
    request_id: &str,
) -> Map<String, Value> {
    let at = now_ms();
    let mut c = Map::new();
    c.insert("routeKey".into(), route_key.into());
    c.insert("eventType".into(), event_type.into());
    c.insert("extendedRequestId".into(), request_id.into());
    c.insert("requestTime".into(), request_time(at).into());
    c.insert("messageDirection".into(), "IN".into());
    c.insert("stage".into(), api.stage.clone().into());
    c.insert("connectedAt".into(), peer.connected_at.into());
    c.insert("requestTimeEpoch".into(), at.into());
    c.insert(
        "identity".into(),
        json!({"sourceIp": peer.source_ip, "userAgent": peer.user_agent}),
    );
    c.insert("requestId".into(), request_id.into());
    c.insert("domainName".into(), api.domain.clone().into());
    c.insert("connectionId".into(), peer.connection_id.clone().into());
    c.insert("apiId".into(), api.api_id.clone().into());
    if let Some(authorizer) = &peer.authorizer {
        c.insert("authorizer".into(), authorizer.clone());
    }
    c
}

/// `$connect`: the upgrade request's headers and query string.
pub(crate) fn connect(
    api: &Api,
    peer: &Peer,
    headers: &Pairs,
    query: &Pairs,
    request_id: &str,
) -> Value {
    let (headers, multi_headers) = single_and_multi(headers);
    let mut event = Map::new();
    event.insert("headers".into(), headers);
    event.insert("multiValueHeaders".into(), multi_headers);
    if !query.is_empty() {
        let (single, multi) = single_and_multi(query);
        event.insert("queryStringParameters".into(), single);
        event.insert("multiValueQueryStringParameters".into(), multi);
    }
    event.insert(
        "requestContext".into(),
        Value::Object(context(api, peer, "$connect", "CONNECT", request_id)),
    );
    event.insert("isBase64Encoded".into(), false.into());
    Value::Object(event)
}

/// A message on `route_key`; `body` is base64 when `is_base64` (a binary frame, where
/// binary frames are allowed).
pub(crate) fn message(
    api: &Api,
    peer: &Peer,
    route_key: &str,
    body: &str,
    is_base64: bool,
    request_id: &str,
) -> Value {
    let mut c = context(api, peer, route_key, "MESSAGE", request_id);
    c.insert("messageId".into(), aws_id().into());
    json!({
        "requestContext": c,
        "body": body,
        "isBase64Encoded": is_base64,
    })
}

/// `$disconnect`, with the close's code and reason.
pub(crate) fn disconnect(
    api: &Api,
    peer: &Peer,
    code: u16,
    reason: &str,
    request_id: &str,
) -> Value {
    let mut c = context(api, peer, "$disconnect", "DISCONNECT", request_id);
    c.insert("disconnectStatusCode".into(), code.into());
    c.insert("disconnectReason".into(), reason.into());
    let headers = json!({"Host": api.domain, "x-api-key": "", "X-Amzn-Trace-Id": trace_id(), "x-restapi": ""});
    let multi = json!({
        "Host": [api.domain], "x-api-key": [""], "X-Amzn-Trace-Id": [headers["X-Amzn-Trace-Id"]], "x-restapi": [""]
    });
    json!({
        "headers": headers,
        "multiValueHeaders": multi,
        "requestContext": c,
        "isBase64Encoded": false,
    })
}

/// A REQUEST authorizer's event for `$connect`.
pub(crate) fn authorizer(
    api: &Api,
    peer: &Peer,
    headers: &Pairs,
    query: &Pairs,
    request_id: &str,
) -> Value {
    let mut event = connect(api, peer, headers, query, request_id);
    if let Value::Object(map) = &mut event {
        map.insert("type".into(), "REQUEST".into());
        map.insert(
            "methodArn".into(),
            format!(
                "arn:aws:execute-api:us-east-1:000000000000:{}/{}/$connect",
                api.api_id, api.stage
            )
            .into(),
        );
        map.insert("stageVariables".into(), json!({}));
        map.remove("isBase64Encoded");
    }
    event
}

/// An `X-Amzn-Trace-Id` value.
pub(crate) fn trace_id() -> String {
    format!(
        "Root=1-{:08x}-{:024x}",
        now_ms() / 1000,
        fastrand::u128(..) >> 32
    )
}
