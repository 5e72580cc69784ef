//! Headers and subprotocols on connect, through the gateway API and through the JSON event
//! contract, against a server that reflects everything it received (path, query, headers)
//! into its first reply and into a close reason.

use std::time::Duration;

use gateway::{codes, ConnectOptions};
use serde_json::json;

const T: Duration = Duration::from_secs(5);
const SECRET: &str = "Bearer header-SECRET-9f8e7d";

#[test]
fn headers_are_sent_and_their_values_never_come_back() {
    let server = peers::reflector().expect("reflector");
    let gateway = tests::own_gateway(gateway::ManagerConfig::default());
    let options = ConnectOptions::default()
        .header("Authorization", SECRET)
        .header("OpenAI-Beta", "realtime=v1")
        .subprotocol("realtime")
        .subprotocol("json");
    let connected = gateway
        .connect(
            &server.url(),
            &gateway::Call::new().timeout(T).options(options.clone()),
        )
        .expect("connect");
    assert_eq!(connected.subprotocol.as_deref(), Some("realtime"));
    let handle = connected.connection.to_string();
    gateway
        .send_message(
            handle.as_str(),
            gateway::Message::text("hi"),
            &gateway::Call::new(),
        )
        .expect("send");
    let reply = gateway
        .receive_message(handle.as_str(), &gateway::Call::new().timeout(T))
        .expect("reply");
    let gateway::Content::Any(message) = reply.content else {
        panic!("not a message");
    };
    let text = message.as_text().unwrap_or_default().to_owned();
    // The headers went out (the server saw them) and no value came back: every header
    // value is a secret.
    assert!(text.contains("openai-beta=<redacted>"), "{text}");
    assert!(text.contains("authorization=<redacted>"), "{text}");
    assert!(
        text.contains("sec-websocket-protocol=realtime, json"),
        "{text}"
    );
    assert!(!text.contains("header-SECRET"), "{text}");

    // The server closes with a reason holding what it received: redacted too.
    let _ = gateway.send_message(
        handle.as_str(),
        gateway::Message::text("again"),
        &gateway::Call::new(),
    );
    let closed = gateway
        .receive_message(handle.as_str(), &gateway::Call::new().timeout(T))
        .expect_err("closed");
    let failure = tests::failure(&closed);
    assert!(
        !format!("{failure:?}").contains("header-SECRET"),
        "{failure:?}"
    );
}

#[test]
fn owned_headers_line_breaks_and_bad_subprotocols_are_invalid_parameters() {
    let server = peers::reflector().expect("reflector");
    let gateway = tests::own_gateway(gateway::ManagerConfig::default());
    for (options, parameter) in [
        (ConnectOptions::default().header("Host", "evil"), "headers"),
        (
            ConnectOptions::default().header("Sec-WebSocket-Key", "x"),
            "headers",
        ),
        (
            ConnectOptions::default().header("Upgrade", "h2c"),
            "headers",
        ),
        (
            ConnectOptions::default().header("X-A", "a\r\nX-Injected: 1"),
            "headers",
        ),
        (ConnectOptions::default().header("Bad Name", "a"), "headers"),
        (
            ConnectOptions::default().subprotocol("two words"),
            "subprotocols",
        ),
    ] {
        let err = gateway
            .connect(
                &server.url(),
                &gateway::Call::new().timeout(T).options(options.clone()),
            )
            .expect_err("refused");
        let failure = tests::failure(&err);
        assert_eq!(failure.code, codes::INVALID_PARAMETER, "{failure:?}");
        assert_eq!(failure.details["parameter"], parameter, "{failure:?}");
        assert!(
            !failure.message.contains("X-Injected"),
            "{}",
            failure.message
        );
    }
    assert!(gateway.core().open_connections().is_empty());
}

#[test]
fn a_subprotocol_that_was_not_offered_is_refused() {
    let server = peers::reflector_choosing(Some("not-offered")).expect("reflector");
    let gateway = tests::own_gateway(gateway::ManagerConfig::default());
    let options = ConnectOptions::default().subprotocol("realtime");
    let err = gateway
        .connect(
            &server.url(),
            &gateway::Call::new().timeout(T).options(options.clone()),
        )
        .expect_err("refused");
    let failure = tests::failure(&err);
    assert_eq!(failure.code, codes::WEBSOCKET_CONNECT_FAILED, "{failure:?}");
    assert_eq!(failure.details["phase"], "upgrade");
    assert!(
        failure.message.contains("not offered"),
        "{}",
        failure.message
    );
    // Choosing one when none was offered is refused too.
    let err = gateway
        .connect(
            &server.url(),
            &gateway::Call::new()
                .timeout(T)
                .options(ConnectOptions::default()),
        )
        .expect_err("refused");
    assert_eq!(tests::failure(&err).code, codes::WEBSOCKET_CONNECT_FAILED);
    assert!(gateway.core().open_connections().is_empty());
}

#[test]
fn the_json_contract_takes_headers_and_subprotocols() {
    let server = peers::reflector().expect("reflector");
    let function = lambda::Function::new(tests::own_gateway(gateway::ManagerConfig::default()));
    let invocation = lambda::Invocation::local();
    let connected = function.handle(
        json!({"operation": "connect", "url": server.url(),
               "headers": {"Authorization": SECRET}, "subprotocols": ["realtime"]}),
        &invocation,
    );
    assert_eq!(connected["success"], true, "{connected}");
    assert_eq!(connected["data"]["subprotocol"], "realtime", "{connected}");
    let handle = connected["data"]["connection"].clone();
    let sent = function.handle(
        json!({"operation": "send", "connection": handle, "text": "hi"}),
        &invocation,
    );
    assert_eq!(sent["success"], true, "{sent}");
    let received = function.handle(
        json!({"operation": "receive", "connection": handle, "expect": "text"}),
        &invocation,
    );
    assert_eq!(received["success"], true, "{received}");
    assert!(
        !received.to_string().contains("header-SECRET"),
        "{received}"
    );

    for (event, parameter) in [
        (
            json!({"operation": "connect", "url": server.url(), "headers": {"Host": "x"}}),
            "headers",
        ),
        (
            json!({"operation": "connect", "url": server.url(), "headers": {"X-A": 1}}),
            "headers",
        ),
        (
            json!({"operation": "connect", "url": server.url(), "headers": ["X-A"]}),
            "headers",
        ),
        (
            json!({"operation": "connect", "url": server.url(), "subprotocols": "realtime"}),
            "subprotocols",
        ),
        (
            json!({"operation": "request", "url": server.url(), "message": {}, "headers": {"Connection": "close"}}),
            "headers",
        ),
    ] {
        let answer = function.handle(event, &invocation);
        assert_eq!(answer["error_code"], "INVALID_PARAMETER", "{answer}");
        assert_eq!(answer["details"]["parameter"], parameter, "{answer}");
    }
    // No subprotocol offered: the answer has no `subprotocol` (the golden files hold).
    let plain = function.handle(
        json!({"operation": "connect", "url": server.url()}),
        &invocation,
    );
    assert_eq!(plain["success"], true, "{plain}");
    assert!(plain["data"].get("subprotocol").is_none(), "{plain}");
}
