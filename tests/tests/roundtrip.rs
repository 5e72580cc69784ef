//! Requests and long-lived connections against a real echo server, through every entry of
//! the gateway (typed and JSON), and the validation in front of them.

use std::time::Duration;

use serde_json::json;
use tests::servers;

const T: Duration = Duration::from_secs(5);

#[test]
fn request_echoes_through_the_gateway() {
    let echo = servers::echo();
    let msg = json!({"type": "hello", "data": [1, 2, 3]});
    let reply = gateway::websocket_request(
        &echo.url(),
        &msg,
        &gateway::Call::new().timeout(T).correlation_id("rt-request"),
    )
    .unwrap();
    assert_eq!(reply.response().unwrap(), msg);
    assert_eq!(reply.correlation_id, "rt-request");
    assert_eq!(reply.url, echo.url());
}

#[test]
fn request_envelope_has_the_documented_shape() {
    let echo = servers::echo();
    let envelope = gateway::websocket_execute(
        "request",
        json!({"url": echo.url(), "message": {"type": "x"}, "timeout": 5, "correlation_id": "rt-env"}),
    );
    assert_eq!(
        envelope,
        json!({
            "success": true,
            "message": "WebSocket request completed",
            "data": {"response": {"type": "x"}, "correlation_id": "rt-env", "url": echo.url()}
        })
    );
}

#[test]
fn handle_crosses_the_json_boundary() {
    let echo = servers::echo();
    let connected = gateway::websocket_execute("connect", json!({"url": echo.url()}));
    assert_eq!(connected["success"], true, "{connected}");
    let handle = connected["data"]["connection"].as_str().unwrap().to_owned();
    assert!(handle.starts_with("ws-"), "{handle}");
    assert_eq!(
        connected["data"]["correlation_id"].as_str().unwrap().len(),
        13
    );

    for i in 0..3 {
        let sent =
            gateway::websocket_execute("send", json!({"connection": handle, "message": {"n": i}}));
        assert_eq!(sent["success"], true, "{sent}");
        let got =
            gateway::websocket_execute("receive", json!({"connection": handle, "timeout": 5}));
        assert_eq!(got["data"]["message"], json!({"n": i}), "{got}");
    }
    let closed = gateway::websocket_execute("close", json!({"connection": handle}));
    assert_eq!(closed["success"], true, "{closed}");

    let after = gateway::websocket_execute("send", json!({"connection": handle, "message": {}}));
    assert_eq!(after["error_code"], "WEBSOCKET_NO_CONNECTION", "{after}");
    let again = gateway::websocket_execute("close", json!({"connection": handle}));
    assert_eq!(again["error_code"], "WEBSOCKET_NO_CONNECTION");
}

#[test]
fn typed_connection_api() {
    let echo = servers::echo();
    let c = gateway::websocket_connect(&echo.url(), &gateway::Call::new().timeout(T)).unwrap();
    let h = c.connection.as_str();
    gateway::websocket_send(h, &json!([1, "two"]), &gateway::Call::new()).unwrap();
    let r = gateway::websocket_receive(h, &gateway::Call::new().timeout(T)).unwrap();
    assert_eq!(r.message().unwrap(), json!([1, "two"]));
    assert_eq!(r.connection, c.connection);
    gateway::websocket_close(h, &gateway::Call::new()).unwrap();
}

#[test]
fn pings_are_answered_and_skipped() {
    let server = servers::ping_first();
    let reply = gateway::websocket_request(
        &server.url(),
        &json!({"k": "v"}),
        &gateway::Call::new().timeout(T),
    )
    .unwrap();
    assert_eq!(reply.response().unwrap(), json!({"k": "v"}));
}

#[test]
fn binary_reply_is_a_parse_error() {
    let server = servers::binary_reply();
    let err = gateway::websocket_request(
        &server.url(),
        &json!({"k": "v"}),
        &gateway::Call::new().timeout(T),
    )
    .unwrap_err();
    assert_eq!(
        tests::failure(&err).code,
        gateway::codes::WEBSOCKET_PARSE_FAILED
    );
    assert_eq!(tests::failure(&err).details["frame"], "binary");
}

#[test]
fn refused_connection_is_connect_failed() {
    // Bind then drop: the port is very likely closed right after.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = gateway::websocket_request(
        &format!("ws://127.0.0.1:{port}/"),
        &json!({}),
        &gateway::Call::new().timeout(T),
    )
    .unwrap_err();
    assert_eq!(
        tests::failure(&err).code,
        gateway::codes::WEBSOCKET_CONNECT_FAILED,
        "{err}"
    );
    assert_eq!(tests::failure(&err).details["phase"], "connect");
}

#[test]
fn refused_upgrade_is_connect_failed_with_status() {
    let server = servers::refuse_upgrade();
    let err =
        gateway::websocket_request(&server.url(), &json!({}), &gateway::Call::new().timeout(T))
            .unwrap_err();
    assert_eq!(
        tests::failure(&err).code,
        gateway::codes::WEBSOCKET_CONNECT_FAILED
    );
    assert_eq!(tests::failure(&err).details["http_status"], 404);
    assert_eq!(tests::failure(&err).details["phase"], "upgrade");
}

#[test]
fn localhost_name_is_resolved() {
    let echo = servers::echo();
    let reply = gateway::websocket_request(
        &echo.url_with_host("localhost"),
        &json!({"a": 1}),
        &gateway::Call::new().timeout(T),
    )
    .unwrap();
    assert_eq!(reply.response().unwrap(), json!({"a": 1}));
}

#[test]
fn invalid_parameters_are_named() {
    let cases = [
        ("request", json!({"message": {}}), "url"),
        ("request", json!({"url": 5, "message": {}}), "url"),
        (
            "request",
            json!({"url": "http://example.com", "message": {}}),
            "url",
        ),
        ("request", json!({"url": "not a url", "message": {}}), "url"),
        (
            "request",
            json!({"url": "ws://127.0.0.1:1", "message": "text"}),
            "message",
        ),
        ("request", json!({"url": "ws://127.0.0.1:1"}), "message"),
        (
            "request",
            json!({"url": "ws://127.0.0.1:1", "message": {}, "timeout": 0}),
            "timeout",
        ),
        (
            "request",
            json!({"url": "ws://127.0.0.1:1", "message": {}, "timeout": 901}),
            "timeout",
        ),
        (
            "request",
            json!({"url": "ws://127.0.0.1:1", "message": {}, "timeout": "5"}),
            "timeout",
        ),
        (
            "request",
            json!({"url": "ws://127.0.0.1:1", "message": {}, "timeout": -1}),
            "timeout",
        ),
        (
            "connect",
            json!({"url": "ws://h", "correlation_id": 7}),
            "correlation_id",
        ),
        (
            "connect",
            json!({"url": "ws://h", "correlation_id": "a\nb"}),
            "correlation_id",
        ),
        (
            "connect",
            json!({"url": "ws://h", "correlation_id": ""}),
            "correlation_id",
        ),
        ("send", json!({"message": {}}), "connection"),
        ("receive", json!({"connection": 1}), "connection"),
        ("close", json!({}), "connection"),
        ("close", json!([1, 2]), "params"),
    ];
    for (op, params, name) in cases {
        let e = gateway::websocket_execute(op, params.clone());
        assert_eq!(e["success"], false, "{op} {params}");
        assert_eq!(e["error_code"], "INVALID_PARAMETER", "{op} {params}: {e}");
        assert_eq!(e["details"]["parameter"], name, "{op} {params}: {e}");
        assert!(e["error"].as_str().unwrap().contains(name), "{e}");
    }
}

#[test]
fn typed_api_validates_too() {
    let err = gateway::websocket_request(
        "ws://127.0.0.1:1",
        &json!({}),
        &gateway::Call::new().timeout(Duration::ZERO),
    )
    .unwrap_err();
    assert_eq!(tests::failure(&err).code, gateway::codes::INVALID_PARAMETER);
    let err = gateway::websocket_connect("wss://", &gateway::Call::new().timeout(T)).unwrap_err();
    assert_eq!(tests::failure(&err).code, gateway::codes::INVALID_PARAMETER);
    let err = gateway::websocket_send("ws-1", &json!(3), &gateway::Call::new()).unwrap_err();
    assert_eq!(tests::failure(&err).code, gateway::codes::INVALID_PARAMETER);
}

#[test]
fn unknown_operation_lists_the_valid_ones() {
    let e = gateway::websocket_execute("explode", json!({}));
    assert_eq!(e["error_code"], "UNKNOWN_OPERATION");
    assert_eq!(
        e["error"],
        "Unknown WebSocket operation: 'explode'. Valid: connect, send, receive, close, request, info, get_stats, reset"
    );
}

#[test]
fn receive_on_unknown_handle() {
    let err =
        gateway::websocket_receive("ws-999999", &gateway::Call::new().timeout(T)).unwrap_err();
    assert_eq!(
        tests::failure(&err).code,
        gateway::codes::WEBSOCKET_NO_CONNECTION
    );
    assert_eq!(tests::failure(&err).details["connection"], "ws-999999");
}

#[test]
fn manager_is_reachable_through_the_singleton_registry() {
    let any = gateway::singleton_get(gateway::WEBSOCKET_MANAGER).unwrap();
    let manager = any.downcast_ref::<gateway::WebSocketCore>().unwrap();
    assert!(std::ptr::eq(manager, &**gateway::WebSocketCore::global()));
    assert!(gateway::singleton_get("nothing_here").is_none());
}

#[test]
fn ipv6_loopback() {
    let Ok(server) = tests::servers::Server::start_on(
        "::1",
        "ws",
        std::sync::Arc::new(|stream| {
            if let Ok(ws) = tungstenite::accept(stream) {
                peers::echo_loop(ws);
            }
        }),
    ) else {
        eprintln!("skipped: no IPv6 loopback on this machine");
        return;
    };
    assert!(server.url().starts_with("ws://[::1]:"));
    let reply = gateway::websocket_request(
        &server.url(),
        &json!({"v6": true}),
        &gateway::Call::new().timeout(T),
    )
    .unwrap();
    assert_eq!(reply.response().unwrap(), json!({"v6": true}));
    assert_eq!(reply.url, server.url());
}

#[test]
fn a_busy_connection_makes_the_second_caller_wait_at_most_its_timeout() {
    let server = servers::mute_after_upgrade();
    let c = gateway::websocket_connect(&server.url(), &gateway::Call::new().timeout(T)).unwrap();
    let h = c.connection.as_str().to_owned();
    std::thread::scope(|scope| {
        let h1 = h.clone();
        let first = scope.spawn(move || {
            gateway::websocket_receive(
                &h1,
                &gateway::Call::new().timeout(Duration::from_millis(1500)),
            )
        });
        std::thread::sleep(Duration::from_millis(200));
        let wait = Duration::from_millis(400);
        let start = std::time::Instant::now();
        let err = gateway::websocket_send(&h, &json!({}), &gateway::Call::new().timeout(wait))
            .unwrap_err();
        let elapsed = start.elapsed();
        assert_eq!(tests::failure(&err).code, gateway::codes::WEBSOCKET_TIMEOUT);
        assert_eq!(tests::failure(&err).details["phase"], "wait_for_connection");
        assert!(
            elapsed >= wait.mul_f64(0.95) && elapsed <= wait.mul_f64(1.1),
            "{elapsed:?}"
        );
        let first = first.join().unwrap().unwrap_err();
        assert_eq!(
            tests::failure(&first).code,
            gateway::codes::WEBSOCKET_TIMEOUT
        );
    });
    gateway::websocket_close(&h, &gateway::Call::new()).unwrap();
}

#[test]
fn close_frames_carry_their_code_and_reason_both_ways() {
    use std::sync::{Arc, Mutex};
    use tungstenite::protocol::frame::coding::CloseCode;
    use tungstenite::protocol::CloseFrame;

    // The server closes with 4001 "bye" after the first message.
    let closer = servers::Server::start(
        "ws",
        Arc::new(|stream| {
            if let Ok(mut ws) = tungstenite::accept(stream) {
                let _ = ws.read();
                let _ = ws.close(Some(CloseFrame {
                    code: CloseCode::from(4001),
                    reason: "bye".into(),
                }));
                while ws.read().is_ok() {}
            }
        }),
    )
    .unwrap();
    let e = gateway::websocket_execute(
        "request",
        json!({"url": closer.url(), "message": {}, "timeout": 3}),
    );
    assert_eq!(e["error_code"], "WEBSOCKET_CONNECTION_CLOSED", "{e}");
    assert_eq!(e["details"]["close_code"], 4001, "{e}");
    assert_eq!(e["details"]["reason"], "bye", "{e}");

    // The client's code and reason reach the server.
    let seen: Arc<Mutex<Option<(u16, String)>>> = Arc::default();
    let record = Arc::clone(&seen);
    let listener = servers::Server::start(
        "ws",
        Arc::new(move |stream| {
            if let Ok(mut ws) = tungstenite::accept(stream) {
                while let Ok(m) = ws.read() {
                    if let tungstenite::Message::Close(Some(frame)) = m {
                        if let Ok(mut s) = record.lock() {
                            *s = Some((u16::from(frame.code), frame.reason.to_string()));
                        }
                    }
                }
            }
        }),
    )
    .unwrap();
    let g = gateway::Gateway::global();
    let c = g
        .connect(&listener.url(), &gateway::Call::new().timeout(T))
        .unwrap();
    g.close_with(
        c.connection.as_str(),
        4002,
        "finished",
        &gateway::Call::new(),
    )
    .unwrap();
    let deadline = std::time::Instant::now() + T;
    while seen.lock().unwrap().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        seen.lock().unwrap().clone(),
        Some((4002, "finished".to_owned()))
    );
}

#[test]
fn text_and_binary_messages_through_the_typed_gateway() {
    use gateway::{Content, Message};
    let echo = servers::echo();
    let g = gateway::Gateway::global();
    let c = g
        .connect(&echo.url(), &gateway::Call::new().timeout(T))
        .unwrap();
    let h = c.connection.as_str();
    g.send_message(h, Message::text("words"), &gateway::Call::new())
        .unwrap();
    g.send_message(h, Message::binary(vec![0, 1, 255]), &gateway::Call::new())
        .unwrap();
    let first = g
        .receive_message(h, &gateway::Call::new().timeout(T))
        .unwrap();
    assert_eq!(first.content, Content::Any(Message::text("words")));
    let second = g
        .receive_message(h, &gateway::Call::new().timeout(T))
        .unwrap();
    assert_eq!(
        second.content,
        Content::Any(Message::binary(vec![0, 1, 255]))
    );
    g.close(h, &gateway::Call::new()).unwrap();
}
