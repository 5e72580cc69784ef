//! The emulator's events and routing against AWS's behaviour (`../shared/API-GATEWAY.md`):
//! `$connect` waits for the function and passes its status on, the subprotocol only when
//! the function returns one, the route selection expression and `$default`, API Gateway's
//! error messages, a complete and stable `requestContext` that `aws_lambda_events`
//! deserializes, an authorizer's context on every route, and the Management API on the
//! same port.

mod support;

use std::time::Duration;

use apigw_local::{Emulator, FunctionError, Functions, RouteSelection, Routes, Settings};
use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use serde_json::{json, Value};
use support::*;
use tungstenite::Message;

fn typed(event: &Value) -> ApiGatewayWebsocketProxyRequest {
    serde_json::from_value(event.clone())
        .unwrap_or_else(|e| panic!("not an ApiGatewayWebsocketProxyRequest: {e}\n{event:#}"))
}

#[test]
fn every_event_is_complete_stable_and_typed() {
    let (api, events) = emulator(Settings::default(), echo);
    let url = format!("{}?team=a&team=b&user=alice", api.url());
    let mut client = connect(
        &url,
        &[("User-Agent", "events-test/1.0"), ("X-Custom", "yes")],
    )
    .unwrap();
    client
        .send(Message::text(r#"{"action": "anything", "n": 1}"#))
        .unwrap();
    assert_eq!(next_text(&mut client), r#"{"action": "anything", "n": 1}"#);
    client.send(Message::text("second")).unwrap();
    assert_eq!(next_text(&mut client), "second");
    client
        .close(Some(tungstenite::protocol::CloseFrame {
            code: 4001.into(),
            reason: "bye now".into(),
        }))
        .unwrap();
    let id = connection_id(&events, 0);
    let disconnect = wait_event(&events, "DISCONNECT", &id);
    let all = events.lock().clone();
    assert_eq!(all.len(), 4, "{all:#?}");

    let connect = &all[0];
    let c = &connect["requestContext"];
    assert_eq!(c["routeKey"], "$connect");
    assert_eq!(c["eventType"], "CONNECT");
    assert_eq!(connect["headers"]["User-Agent"], "events-test/1.0");
    assert_eq!(connect["headers"]["X-Custom"], "yes");
    assert_eq!(connect["headers"]["Host"], api.addr().to_string());
    assert!(connect["headers"]["Sec-WebSocket-Key"].is_string());
    assert_eq!(connect["headers"]["X-Forwarded-For"], "127.0.0.1");
    assert_eq!(
        connect["queryStringParameters"],
        json!({"team": "b", "user": "alice"})
    );
    assert_eq!(
        connect["multiValueQueryStringParameters"]["team"],
        json!(["a", "b"])
    );
    assert_eq!(c["identity"]["sourceIp"], "127.0.0.1");
    assert_eq!(c["identity"]["userAgent"], "events-test/1.0");
    assert!(c.get("messageId").is_none());

    // API Gateway's id format: 16 characters, base64 letters and digits, ending in '='.
    assert_eq!(id.len(), 16);
    assert!(id.ends_with('=') && id[..15].chars().all(|c| c.is_ascii_alphanumeric()));
    let connected_at = c["connectedAt"].as_i64().unwrap();
    let mut request_ids = Vec::new();
    for event in &all {
        let c = &event["requestContext"];
        assert_eq!(c["connectionId"], id.as_str());
        assert_eq!(
            c["connectedAt"], connected_at,
            "connectedAt must not change"
        );
        assert!(c["requestTimeEpoch"].as_i64().unwrap() >= connected_at);
        let time = c["requestTime"].as_str().unwrap();
        // 09/Feb/2024:18:11:43 +0000
        assert_eq!(time.len(), 26, "{time}");
        assert!(
            time.ends_with(" +0000") && &time[2..3] == "/" && &time[6..7] == "/",
            "{time}"
        );
        assert_eq!(c["domainName"], api.addr().to_string());
        assert_eq!(c["stage"], "local");
        assert_eq!(c["apiId"], "apigwlocal");
        assert_eq!(c["messageDirection"], "IN");
        assert_eq!(c["extendedRequestId"], c["requestId"]);
        request_ids.push(c["requestId"].as_str().unwrap().to_owned());
        let typed = typed(event);
        assert_eq!(typed.request_context.connected_at, connected_at);
        assert_eq!(
            typed.request_context.connection_id.as_deref(),
            Some(id.as_str())
        );
    }
    request_ids.sort();
    request_ids.dedup();
    assert_eq!(request_ids.len(), 4, "request ids are unique");

    let message = &all[1];
    assert_eq!(message["requestContext"]["eventType"], "MESSAGE");
    assert_eq!(message["requestContext"]["routeKey"], "$default");
    assert_eq!(message["body"], r#"{"action": "anything", "n": 1}"#);
    assert_eq!(message["isBase64Encoded"], false);
    let m1 = message["requestContext"]["messageId"].as_str().unwrap();
    let m2 = all[2]["requestContext"]["messageId"].as_str().unwrap();
    assert!(m1.len() == 16 && m1 != m2);

    assert_eq!(disconnect["requestContext"]["routeKey"], "$disconnect");
    assert_eq!(disconnect["requestContext"]["disconnectStatusCode"], 4001);
    assert_eq!(disconnect["requestContext"]["disconnectReason"], "bye now");
    let typed = typed(&disconnect);
    assert_eq!(typed.request_context.disconnect_status_code, Some(4001));
}

#[test]
fn connect_waits_for_the_function_and_passes_its_status_on() {
    let (api, events) = emulator(Settings::default(), |event| {
        let user = event["queryStringParameters"]["user"]
            .as_str()
            .unwrap_or_default();
        match user {
            "eve" => Reply::Answer(json!({"statusCode": 401})),
            "mallory" => Reply::Answer(json!({"statusCode": 403, "body": "no"})),
            "crash" => Reply::Fail,
            "weird" => Reply::Answer(json!("a string is no proxy answer")),
            "quiet" => Reply::Answer(Value::Null),
            _ => Reply::Answer(json!({"statusCode": 200})),
        }
    });
    assert_eq!(
        refused_status(connect(&format!("{}?user=eve", api.url()), &[])),
        401
    );
    assert_eq!(
        refused_status(connect(&format!("{}?user=mallory", api.url()), &[])),
        403
    );
    assert_eq!(
        refused_status(connect(&format!("{}?user=crash", api.url()), &[])),
        500
    );
    assert_eq!(
        refused_status(connect(&format!("{}?user=weird", api.url()), &[])),
        500
    );
    assert_eq!(api.connections(), 0);
    // A function that answers nothing accepts.
    let quiet = connect(&format!("{}?user=quiet", api.url()), &[]).unwrap();
    drop(quiet);
    // Refused connections never existed: no $disconnect for them.
    std::thread::sleep(Duration::from_millis(300));
    let all = events.lock().clone();
    let connects = all
        .iter()
        .filter(|e| e["requestContext"]["eventType"] == "CONNECT")
        .count();
    let disconnects = all
        .iter()
        .filter(|e| e["requestContext"]["eventType"] == "DISCONNECT")
        .count();
    assert_eq!((connects, disconnects), (5, 1), "{all:#?}");
    // Another stage, a plain GET, a path outside the stage.
    assert_eq!(
        refused_status(connect(&format!("ws://{}/prod", api.addr()), &[])),
        403
    );
    let head = raw_get(api.addr(), "/local");
    assert!(head.starts_with("HTTP/1.1 426"), "{head}");
}

fn raw_get(addr: std::net::SocketAddr, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[test]
fn a_subprotocol_is_selected_only_when_the_function_returns_one() {
    let (api, _events) = emulator(Settings::default(), |event| {
        let offered = event["headers"]["Sec-WebSocket-Protocol"]
            .as_str()
            .unwrap_or_default();
        if offered.contains("pick-me") {
            Reply::Answer(
                json!({"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "pick-me"}}),
            )
        } else {
            Reply::Answer(json!({"statusCode": 200}))
        }
    });
    let silent = raw_upgrade(api.addr(), "/local", Some("chat, bearer"));
    assert!(silent.starts_with("HTTP/1.1 101"), "{silent}");
    assert!(
        !silent
            .to_ascii_lowercase()
            .contains("sec-websocket-protocol"),
        "{silent}"
    );
    assert!(
        silent.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        "the accept key: {silent}"
    );
    let chosen = raw_upgrade(api.addr(), "/local", Some("chat, pick-me"));
    assert!(chosen.starts_with("HTTP/1.1 101"), "{chosen}");
    assert!(
        chosen
            .to_ascii_lowercase()
            .contains("sec-websocket-protocol: pick-me"),
        "{chosen}"
    );
}

#[test]
fn messages_follow_the_route_selection_expression() {
    let settings = Settings {
        selection: RouteSelection::parse("$request.body.action").unwrap(),
        routes: Routes::new(["echo", "fail", "weird", "slow", "$default"]).one_way(["note"]),
        integration_timeout: Duration::from_millis(600),
        ..Settings::default()
    };
    let (api, events) = emulator(settings, |event| {
        let route = event["requestContext"]["routeKey"]
            .as_str()
            .unwrap_or_default();
        match route {
            "fail" => Reply::Fail,
            "weird" => Reply::Answer(json!([1, 2, 3])),
            "slow" => Reply::Stall,
            "$connect" | "$disconnect" => Reply::Answer(json!({"statusCode": 200})),
            other => Reply::Answer(json!({"statusCode": 200, "body": format!("route {other}")})),
        }
    });
    let mut client = connect(&api.url(), &[]).unwrap();
    let id = connection_id(&events, 0);
    client.send(Message::text(r#"{"action": "echo"}"#)).unwrap();
    assert_eq!(next_text(&mut client), "route echo");
    client
        .send(Message::text(r#"{"action": "unknown"}"#))
        .unwrap();
    assert_eq!(next_text(&mut client), "route $default");
    client.send(Message::text("not json at all")).unwrap();
    assert_eq!(next_text(&mut client), "route $default");
    // One-way: the function runs, nothing comes back; the next answer is the next route's.
    client.send(Message::text(r#"{"action": "note"}"#)).unwrap();
    client.send(Message::text(r#"{"action": "echo"}"#)).unwrap();
    assert_eq!(next_text(&mut client), "route echo");
    for (action, expected) in [
        ("fail", "Internal server error"),
        ("weird", "Internal server error"),
        ("slow", "Endpoint request timed out"),
    ] {
        client
            .send(Message::text(format!(r#"{{"action": "{action}"}}"#)))
            .unwrap();
        let error = next_json(&mut client);
        assert_eq!(error["message"], expected, "{action}");
        assert_eq!(error["connectionId"], id.as_str());
        assert_eq!(error["requestId"].as_str().unwrap().len(), 16);
        assert_eq!(error.as_object().unwrap().len(), 3);
    }
    // Messages are invoked concurrently, as on AWS: compare them as a set.
    let mut keys: Vec<String> = events
        .lock()
        .iter()
        .filter(|e| e["requestContext"]["eventType"] == "MESSAGE")
        .map(|e| e["requestContext"]["routeKey"].as_str().unwrap().to_owned())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        ["$default", "$default", "echo", "echo", "fail", "note", "slow", "weird"]
    );
    drop(client);
}

#[test]
fn without_default_an_unmatched_message_is_forbidden_and_the_connection_stays() {
    let settings = Settings {
        routes: Routes::new(["echo"]),
        ..Settings::default()
    };
    let (api, events) = emulator(settings, echo);
    let mut client = connect(&api.url(), &[]).unwrap();
    let id = connection_id(&events, 0);
    client
        .send(Message::text(r#"{"action": "other"}"#))
        .unwrap();
    let forbidden = next_json(&mut client);
    assert_eq!(forbidden["message"], "Forbidden");
    assert_eq!(forbidden["connectionId"], id.as_str());
    assert!(forbidden["requestId"].is_string());
    client.send(Message::text("plain text")).unwrap();
    assert_eq!(next_json(&mut client)["message"], "Forbidden");
    client.send(Message::text(r#"{"action": "echo"}"#)).unwrap();
    assert_eq!(next_text(&mut client), r#"{"action": "echo"}"#);
    let messages = events
        .lock()
        .iter()
        .filter(|e| e["requestContext"]["eventType"] == "MESSAGE")
        .count();
    assert_eq!(messages, 1, "unrouted messages never reach the function");
}

#[test]
fn the_management_api_shares_the_port_and_answers_410_as_aws_does() {
    // The function posts to the connection from inside its own $connect: 410 there.
    let inside: std::sync::Arc<parking_lot::Mutex<Vec<u16>>> = Default::default();
    let seen = std::sync::Arc::clone(&inside);
    let events: Events = Default::default();
    let recorded = std::sync::Arc::clone(&events);
    let f = move |event: Value, _deadline: std::time::Instant| {
        recorded.lock().push(event.clone());
        let seen = std::sync::Arc::clone(&seen);
        async move {
            let c = &event["requestContext"];
            if c["eventType"] == "CONNECT" {
                let endpoint = format!(
                    "http://{}/{}",
                    c["domainName"].as_str().unwrap(),
                    c["stage"].as_str().unwrap()
                );
                let id = c["connectionId"].as_str().unwrap().to_owned();
                let posted = management(&endpoint)
                    .post_to_connection()
                    .connection_id(id)
                    .data(b"too early".to_vec().into())
                    .send()
                    .await;
                let status = posted
                    .err()
                    .and_then(|e| e.raw_response().map(|r| r.status().as_u16()))
                    .unwrap_or(200);
                seen.lock().push(status);
            }
            Ok::<_, FunctionError>(json!({"statusCode": 200}))
        }
    };
    let api = Emulator::start(Settings::default(), Functions::new(f), 0).unwrap();
    let mut client = connect(&api.url(), &[("User-Agent", "mgmt-test")]).unwrap();
    assert_eq!(*inside.lock(), [410], "a post from inside $connect is 410");
    let id = connection_id(&events, 0);
    let rt = runtime();
    let sdk = management(&api.management_url());
    rt.block_on(
        sdk.post_to_connection()
            .connection_id(&id)
            .data(b"hello client".to_vec().into())
            .send(),
    )
    .unwrap();
    assert_eq!(next_text(&mut client), "hello client");
    let info = rt
        .block_on(sdk.get_connection().connection_id(&id).send())
        .unwrap();
    assert_eq!(
        info.identity().and_then(|i| i.user_agent()),
        Some("mgmt-test")
    );
    assert_eq!(
        info.identity().and_then(|i| i.source_ip()),
        Some("127.0.0.1")
    );
    let connected_ms = events.lock()[0]["requestContext"]["connectedAt"]
        .as_i64()
        .unwrap();
    assert_eq!(
        info.connected_at().unwrap().to_millis().unwrap(),
        connected_ms
    );
    let big = vec![b'x'; apigw_local::MESSAGE_LIMIT + 1];
    let too_big = rt
        .block_on(
            sdk.post_to_connection()
                .connection_id(&id)
                .data(big.into())
                .send(),
        )
        .unwrap_err();
    assert_eq!(too_big.raw_response().unwrap().status().as_u16(), 413);
    let never = rt
        .block_on(
            sdk.post_to_connection()
                .connection_id("NeverExisted123=")
                .data(b"x".to_vec().into())
                .send(),
        )
        .unwrap_err();
    assert!(never.into_service_error().is_gone_exception());
    // DELETE: the client gets 1000, $disconnect says 1000, and the id is gone.
    rt.block_on(sdk.delete_connection().connection_id(&id).send())
        .unwrap();
    assert_eq!(
        close_of(&mut client),
        (1000, "Connection Closed Normally".into())
    );
    let disconnect = wait_event(&events, "DISCONNECT", &id);
    assert_eq!(disconnect["requestContext"]["disconnectStatusCode"], 1000);
    assert_eq!(
        disconnect["requestContext"]["disconnectReason"],
        "Connection Closed Normally"
    );
    let after = rt
        .block_on(
            sdk.post_to_connection()
                .connection_id(&id)
                .data(b"x".to_vec().into())
                .send(),
        )
        .unwrap_err();
    assert!(after.into_service_error().is_gone_exception());
    let get = rt
        .block_on(sdk.get_connection().connection_id(&id).send())
        .unwrap_err();
    assert!(get.into_service_error().is_gone_exception());
    let delete = rt
        .block_on(sdk.delete_connection().connection_id(&id).send())
        .unwrap_err();
    assert!(delete.into_service_error().is_gone_exception());
    // The stage must be in the path.
    let wrong = management(&format!("http://{}", api.addr()));
    let forbidden = rt
        .block_on(
            wrong
                .post_to_connection()
                .connection_id(&id)
                .data(b"x".to_vec().into())
                .send(),
        )
        .unwrap_err();
    assert!(forbidden.into_service_error().is_forbidden_exception());
}

#[test]
fn an_authorizers_context_reaches_connect_and_every_later_route() {
    let (integration, events) = recording(echo);
    let authorizer = |event: Value, _deadline: std::time::Instant| async move {
        let token = event["queryStringParameters"]["token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        match token.as_str() {
            "good" => Ok(json!({
                "principalId": "alice",
                "policyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}
                ]},
                "context": {"scope": "websocket:admin", "tier": 2, "nested": {"dropped": true}}
            })),
            "denied" => Ok(json!({
                "principalId": "bob",
                "policyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": event["methodArn"]}
                ]}
            })),
            _ => Err(FunctionError::Failed("Unauthorized".into())),
        }
    };
    let api = Emulator::start(
        Settings::default(),
        Functions::new(integration).with_authorizer(authorizer),
        0,
    )
    .unwrap();
    assert_eq!(
        refused_status(connect(&format!("{}?token=denied", api.url()), &[])),
        403
    );
    assert_eq!(
        refused_status(connect(&format!("{}?token=nope", api.url()), &[])),
        401
    );
    assert!(
        events.lock().is_empty(),
        "a refused authorizer never reaches the integration"
    );
    let mut client = connect(&format!("{}?token=good", api.url()), &[]).unwrap();
    client.send(Message::text("hi")).unwrap();
    assert_eq!(next_text(&mut client), "hi");
    client.close(None).unwrap();
    let id = connection_id(&events, 0);
    wait_event(&events, "DISCONNECT", &id);
    for event in events.lock().iter() {
        let a = &event["requestContext"]["authorizer"];
        assert_eq!(a["principalId"], "alice", "{event:#}");
        assert_eq!(a["scope"], "websocket:admin");
        assert_eq!(a["tier"], 2);
        assert!(a.get("nested").is_none());
        assert!(a["integrationLatency"].is_u64());
        typed(event);
    }
}
