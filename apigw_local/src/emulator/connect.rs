//! `$connect`: the upgrade waits for the function (and the authorizer, when there is one);
//! a 2xx answer completes it, with the subprotocol only when the function returned one;
//! any other status is what the client gets, and no connection exists.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::event::{self, Pairs, Peer};
use super::ids::{aws_id, now_ms};
use super::registry::Conn;
use super::{socket, FunctionError, Shared};

/// API Gateway's limit on the URL of a request.
pub const URL_LIMIT: usize = 4096;

fn message(status: StatusCode, text: &str) -> Response {
    (status, axum::Json(json!({ "message": text }))).into_response()
}

/// `sec-websocket-key` → `Sec-WebSocket-Key`, `user-agent` → `User-Agent`: the casing
/// AWS's events show (hyper hands the names over in lower case).
fn canonical(name: &str) -> String {
    name.split('-')
        .map(|part| match part {
            "websocket" => "WebSocket".to_owned(),
            _ => {
                let mut chars = part.chars();
                chars.next().map_or_else(String::new, |first| {
                    first.to_ascii_uppercase().to_string() + chars.as_str()
                })
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn headers_of(headers: &HeaderMap, remote: SocketAddr, local_port: u16) -> Pairs {
    let mut pairs: Pairs = headers
        .iter()
        .filter_map(|(name, value)| {
            value
                .to_str()
                .ok()
                .map(|v| (canonical(name.as_str()), v.to_owned()))
        })
        .collect();
    pairs.push(("X-Amzn-Trace-Id".into(), event::trace_id()));
    pairs.push(("X-Forwarded-For".into(), remote.ip().to_string()));
    pairs.push(("X-Forwarded-Port".into(), local_port.to_string()));
    pairs.push(("X-Forwarded-Proto".into(), "http".into()));
    pairs
}

/// The `Sec-WebSocket-Key` of a WebSocket upgrade (version 13); `None` for anything else.
fn upgrade_key(headers: &HeaderMap) -> Option<HeaderValue> {
    let has = |name: header::HeaderName, token: &str| {
        headers.get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    let upgrade = has(header::UPGRADE, "websocket")
        && has(header::CONNECTION, "upgrade")
        && headers
            .get(header::SEC_WEBSOCKET_VERSION)
            .is_some_and(|v| v.as_bytes() == b"13");
    upgrade
        .then(|| headers.get(header::SEC_WEBSOCKET_KEY).cloned())
        .flatten()
}

/// A header of a function's answer, by name in any case (`headers`, then
/// `multiValueHeaders`).
fn answer_header<'a>(answer: &'a Value, name: &str) -> Option<&'a str> {
    let find = |field: &str| {
        answer
            .get(field)
            .and_then(Value::as_object)
            .and_then(|map| {
                map.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v)
            })
    };
    find("headers").and_then(Value::as_str).or_else(|| {
        find("multiValueHeaders")
            .and_then(Value::as_array)
            .and_then(|values| values.first())
            .and_then(Value::as_str)
    })
}

/// The status of a function's answer: its `statusCode`, 200 when it has none (a function
/// that returns nothing accepts); `None` when the answer is not a proxy answer.
pub(crate) fn status_of(answer: &Value) -> Option<u16> {
    match answer {
        Value::Null => Some(200),
        Value::Object(map) => match map.get("statusCode") {
            None => Some(200),
            Some(code) => code
                .as_u64()
                .or_else(|| code.as_str().and_then(|s| s.parse().ok()))
                .filter(|c| (100..=599).contains(c))
                .map(|c| c as u16),
        },
        _ => None,
    }
}

/// What the authorizer decided.
enum Decision {
    Allow(Value),
    Refuse(Response),
}

/// A REQUEST authorizer's answer: an IAM policy allowing `execute-api:Invoke` (any Deny
/// refuses with 403), its `principalId` and `context` become `requestContext.authorizer`;
/// a failure named `Unauthorized` is 401, any other 500.
async fn authorize(shared: &Shared, peer: &Peer, headers: &Pairs, query: &Pairs) -> Decision {
    let Some(authorizer) = &shared.functions.authorizer else {
        return Decision::Allow(Value::Null);
    };
    let started = Instant::now();
    let event = event::authorizer(&shared.api, peer, headers, query, &aws_id());
    let answer = shared.invoke(&**authorizer, event).await;
    let policy = match answer {
        Some(Ok(policy)) => policy,
        Some(Err(FunctionError::Failed(why))) if why.contains("Unauthorized") => {
            return Decision::Refuse(message(StatusCode::UNAUTHORIZED, "Unauthorized"))
        }
        Some(Err(e)) => {
            shared.warn(&format!("authorizer: {}", e.log_text()));
            return Decision::Refuse(message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal server error",
            ));
        }
        None => {
            return Decision::Refuse(message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal server error",
            ))
        }
    };
    let statements = policy["policyDocument"]["Statement"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let effect = |e: &str| {
        statements.iter().any(|s| {
            s["Effect"]
                .as_str()
                .is_some_and(|x| x.eq_ignore_ascii_case(e))
        })
    };
    if policy.as_str() == Some("Unauthorized") {
        return Decision::Refuse(message(StatusCode::UNAUTHORIZED, "Unauthorized"));
    }
    if effect("Deny") || !effect("Allow") {
        return Decision::Refuse(message(StatusCode::FORBIDDEN, "Forbidden"));
    }
    let mut context = Map::new();
    if let Some(fields) = policy["context"].as_object() {
        for (k, v) in fields {
            // AWS passes strings, numbers and booleans; objects and arrays fail the call.
            if v.is_string() || v.is_number() || v.is_boolean() {
                context.insert(k.clone(), v.clone());
            }
        }
    }
    context.insert("principalId".into(), policy["principalId"].clone());
    context.insert(
        "integrationLatency".into(),
        (started.elapsed().as_millis() as u64).into(),
    );
    Decision::Allow(Value::Object(context))
}

/// `GET /{stage}` with an upgrade.
pub(crate) async fn upgrade(
    State(shared): State<Arc<Shared>>,
    Path(stage): Path<String>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    mut request: Request,
) -> Response {
    if stage != shared.settings.stage {
        return message(StatusCode::FORBIDDEN, "Forbidden");
    }
    if request.uri().to_string().len() > URL_LIMIT {
        return message(StatusCode::URI_TOO_LONG, "Request-URI Too Long");
    }
    let Some(key) = upgrade_key(request.headers()) else {
        return message(StatusCode::UPGRADE_REQUIRED, "Upgrade Required");
    };
    let headers = headers_of(request.headers(), remote, shared.addr.port());
    let query: Pairs = request
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let mut id = aws_id();
    for _ in 0..8 {
        if !shared.registry.contains(&id) {
            break;
        }
        id = aws_id();
    }
    let mut peer = Peer {
        connection_id: id,
        connected_at: now_ms(),
        source_ip: remote.ip().to_string(),
        user_agent: request
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        authorizer: None,
    };
    match authorize(&shared, &peer, &headers, &query).await {
        Decision::Refuse(response) => return response,
        Decision::Allow(Value::Null) => {}
        Decision::Allow(context) => peer.authorizer = Some(context),
    }
    let request_id = aws_id();
    let event = event::connect(&shared.api, &peer, &headers, &query, &request_id);
    let answer = match shared.invoke(&*shared.functions.integration, event).await {
        Some(Ok(answer)) => answer,
        Some(Err(e)) => {
            shared.warn(&format!(
                "$connect: {} (request {request_id})",
                e.log_text()
            ));
            return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error");
        }
        None => return message(StatusCode::GATEWAY_TIMEOUT, "Endpoint request timed out"),
    };
    let Some(status) = status_of(&answer) else {
        shared.warn(&format!(
            "$connect: the function's answer is not a proxy answer (request {request_id})"
        ));
        return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error");
    };
    if !(200..300).contains(&status) {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = answer
            .get("body")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        return (status, body).into_response();
    }
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = response.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(accept) = HeaderValue::from_str(&accept) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    if let Some(protocol) =
        answer_header(&answer, "Sec-WebSocket-Protocol").and_then(|p| HeaderValue::from_str(p).ok())
    {
        h.insert(header::SEC_WEBSOCKET_PROTOCOL, protocol);
    }
    // Established before the client hears 101: a post from elsewhere in that instant
    // must not see 410 (the store would drop the connection).
    let (conn, outbox) = Conn::new(peer);
    shared.registry.insert(Arc::clone(&conn));
    let upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(socket::serve(Arc::clone(&shared), conn, outbox, upgrade));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_in_aws_casing() {
        assert_eq!(canonical("sec-websocket-key"), "Sec-WebSocket-Key");
        assert_eq!(canonical("user-agent"), "User-Agent");
        assert_eq!(canonical("host"), "Host");
        assert_eq!(canonical("x-amzn-trace-id"), "X-Amzn-Trace-Id");
    }

    #[test]
    fn answers_and_their_status() {
        assert_eq!(status_of(&Value::Null), Some(200));
        assert_eq!(status_of(&json!({})), Some(200));
        assert_eq!(status_of(&json!({"statusCode": 401})), Some(401));
        assert_eq!(status_of(&json!({"statusCode": "403"})), Some(403));
        assert_eq!(status_of(&json!({"statusCode": 42})), None);
        assert_eq!(status_of(&json!("ok")), None);
        let a = json!({"headers": {"sec-websocket-protocol": "bearer"}});
        assert_eq!(answer_header(&a, "Sec-WebSocket-Protocol"), Some("bearer"));
        let b = json!({"multiValueHeaders": {"Sec-WebSocket-Protocol": ["chat"]}});
        assert_eq!(answer_header(&b, "Sec-WebSocket-Protocol"), Some("chat"));
    }
}
