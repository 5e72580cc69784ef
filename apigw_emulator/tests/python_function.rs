//! A function that is not this project's: a Python handler, written as people write them for
//! API Gateway, behind a minimal Lambda Invoke API server (tests/python/) that the test
//! starts; `apigw-local --invoke-url` drives it. Its `$connect` refusal and subprotocol,
//! its routes, its failure, its own post back through the Management API at the event's
//! `domainName`, and the events it logged, typed.

mod running;
#[path = "../../apigw_local/tests/support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use running::Running;
use serde_json::Value;
use support::{connect, connect_with_response, next_json, next_text, refused_status};
use tungstenite::Message;

/// The Python Invoke API server; killed when dropped.
struct Python {
    child: Child,
    port: u16,
}

impl Python {
    fn start(events_log: &std::path::Path) -> Python {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python");
        let mut child = Command::new("python3")
            .args(["-u", "invoke_server.py", "0"])
            .current_dir(dir)
            .env("EVENTS_LOG", events_log)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start python3");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("no port: {line:?}"));
        Python { child, port }
    }
}

impl Drop for Python {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn logged(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_python_handler_behind_the_invoke_api() {
    let log = std::env::temp_dir().join(format!("apigw-python-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let python = Python::start(&log);
    let base = format!("http://127.0.0.1:{}", python.port);
    let emulator = Running::start(
        &[
            "--invoke-url",
            &base,
            "--function-name",
            "handler",
            "--route",
            "shout",
            "--route",
            "crash",
            "--route",
            "$default",
        ],
        &[],
    );
    assert_eq!(
        emulator.ready["routeSelectionExpression"],
        "$request.body.action"
    );
    let url = emulator.url();

    assert_eq!(
        refused_status(connect(&format!("{url}?user=eve"), &[])),
        401
    );
    let (mut client, response) =
        connect_with_response(&url, &[("Sec-WebSocket-Protocol", "chat, other")]).unwrap();
    assert_eq!(
        response
            .headers()
            .get("sec-websocket-protocol")
            .map(|v| v.to_str().unwrap()),
        Some("chat")
    );

    client
        .send(Message::text(r#"{"action": "hello", "n": 1}"#))
        .unwrap();
    let echo = next_json(&mut client);
    assert_eq!(echo["route"], "$default");
    assert_eq!(echo["echo"], r#"{"action": "hello", "n": 1}"#);

    client
        .send(Message::text(
            r#"{"action": "shout", "text": "quiet please"}"#,
        ))
        .unwrap();
    assert_eq!(next_text(&mut client), "QUIET PLEASE");
    assert_eq!(next_json(&mut client)["posted"], 200);

    client
        .send(Message::text(r#"{"action": "crash"}"#))
        .unwrap();
    assert_eq!(next_json(&mut client)["message"], "Internal server error");

    client
        .close(Some(tungstenite::protocol::CloseFrame {
            code: 4002.into(),
            reason: "done".into(),
        }))
        .unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    let events = loop {
        let events = logged(&log);
        if events
            .iter()
            .any(|e| e["requestContext"]["eventType"] == "DISCONNECT")
            || Instant::now() > until
        {
            break events;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["requestContext"]["routeKey"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "$connect",
            "$connect",
            "$default",
            "shout",
            "crash",
            "$disconnect"
        ],
        "{events:#?}"
    );
    let disconnect = events.last().unwrap();
    assert_eq!(disconnect["requestContext"]["disconnectStatusCode"], 4002);
    assert_eq!(disconnect["requestContext"]["disconnectReason"], "done");
    for event in &events {
        serde_json::from_value::<ApiGatewayWebsocketProxyRequest>(event.clone())
            .unwrap_or_else(|e| panic!("{e}: {event:#}"));
    }
    let _ = std::fs::remove_file(&log);
}

#[test]
fn nothing_a_function_reflects_reaches_the_emulators_output() {
    let log = std::env::temp_dir().join(format!("apigw-python-r-{}.jsonl", std::process::id()));
    let python = Python::start(&log);
    let base = format!("http://127.0.0.1:{}", python.port);
    let (emulator, output) = Running::start_logged(
        &[
            "--invoke-url",
            &base,
            "--function-name",
            "handler",
            "--route",
            "reflect",
        ],
        &[],
    );
    let (query_token, bearer) = ("QueryTokenSecret123456", "BearerSecret654321.abc.def");
    let url = format!("{}?token={query_token}", emulator.url());
    let mut client = connect(&url, &[("Authorization", &format!("Bearer {bearer}"))]).unwrap();
    for how in ["raise", "garbage"] {
        client
            .send(Message::text(format!(
                r#"{{"action": "reflect", "how": "{how}"}}"#
            )))
            .unwrap();
        assert_eq!(next_json(&mut client)["message"], "Internal server error");
    }
    client.close(None).unwrap();
    drop(emulator);
    let text = output.lock().clone();
    assert!(
        text.contains("route reflect: the function failed: Unhandled")
            && text.contains("route reflect: the function's answer is not a proxy answer"),
        "the failures were reported: {text}"
    );
    for secret in [query_token, bearer] {
        assert!(
            !text.contains(secret),
            "{secret} in the emulator's output: {text}"
        );
    }
    let events = logged(&log);
    assert!(
        events.iter().any(|e| e.to_string().contains(bearer)),
        "the function did get the token (the test would prove nothing otherwise)"
    );
    let _ = std::fs::remove_file(&log);
}
