//! No panic from any peer: servers that announce frames of 100 MB, 2 GB and 2^63 bytes,
//! answer the upgrade with a megabyte of headers, fragment a control frame, mask a frame,
//! use a reserved opcode or send a close code no endpoint may send. Each ends in a clean
//! error envelope within its timeout, the connection leaves the registry, and the next
//! call on the same function succeeds. CI runs this file in debug and in release builds.

use std::time::{Duration, Instant};

use gateway::ManagerConfig;
use lambda::{Function, Invocation};
use peers::hostile::{breaching, Breach};
use serde_json::{json, Value};
use tests::{own_gateway, servers};

const TIMEOUT: f64 = 3.0;

fn invocation() -> Invocation {
    Invocation::with_budget("hostile", Duration::from_secs(30))
}

/// The cases, each with the error code it must end in.
fn cases() -> Vec<(Breach, &'static str)> {
    vec![
        (
            Breach::Announce {
                length: 100 << 20,
                body: 4 << 20,
            },
            "MESSAGE_TOO_LARGE",
        ),
        (
            Breach::Announce {
                length: 2 << 30,
                body: 4 << 20,
            },
            "MESSAGE_TOO_LARGE",
        ),
        (
            Breach::Announce {
                length: 1 << 63,
                body: 1 << 20,
            },
            "MESSAGE_TOO_LARGE",
        ),
        (
            Breach::HugeUpgradeResponse(1 << 20),
            "WEBSOCKET_CONNECT_FAILED",
        ),
        (Breach::FragmentedControlFrame, "WEBSOCKET_RECEIVE_FAILED"),
        (Breach::MaskedFrame, "WEBSOCKET_RECEIVE_FAILED"),
        (Breach::ReservedOpcode, "WEBSOCKET_RECEIVE_FAILED"),
        (Breach::InvalidCloseCode, "WEBSOCKET_RECEIVE_FAILED"),
    ]
}

/// Runs `event` and checks it failed with `code` within the timeout.
fn fails_cleanly(function: &Function, event: Value, code: &str, what: &str) -> Value {
    let start = Instant::now();
    let envelope = function.handle(event, &invocation());
    let elapsed = start.elapsed();
    assert_eq!(envelope["success"], false, "{what}: {envelope}");
    assert_eq!(envelope["error_code"], code, "{what}: {envelope}");
    assert!(
        elapsed <= Duration::from_secs_f64(TIMEOUT * 1.1),
        "{what}: took {elapsed:?}"
    );
    envelope
}

#[test]
fn a_hostile_peer_gets_a_clean_error_and_the_function_goes_on() {
    let echo = servers::echo();
    for (breach, code) in cases() {
        let what = format!("{breach:?}");
        let function = Function::new(own_gateway(ManagerConfig::default()));
        let server = breaching(breach).expect("start hostile server");

        // One request.
        fails_cleanly(
            &function,
            json!({"operation": "request", "url": server.url(), "message": {"q": 1}, "timeout": TIMEOUT}),
            code,
            &what,
        );

        // A registered connection: the error leaves the registry as it was.
        let connected = function.handle(
            json!({"operation": "connect", "url": server.url(), "timeout": TIMEOUT}),
            &invocation(),
        );
        if code == "WEBSOCKET_CONNECT_FAILED" {
            assert_eq!(connected["error_code"], code, "{what}: {connected}");
        } else {
            let handle = connected["data"]["connection"].as_str().unwrap().to_owned();
            let sent = function.handle(
                json!({"operation": "send", "connection": handle, "text": "go"}),
                &invocation(),
            );
            assert_eq!(sent["success"], true, "{what}: {sent}");
            let received = fails_cleanly(
                &function,
                json!({"operation": "receive", "connection": handle, "expect": "any", "timeout": TIMEOUT}),
                code,
                &what,
            );
            assert_eq!(received["details"]["connection"], handle.as_str());
            // Broken and gone: never read again.
            let again = function.handle(
                json!({"operation": "receive", "connection": handle, "timeout": 0.5}),
                &invocation(),
            );
            assert_eq!(again["error_code"], "WEBSOCKET_NO_CONNECTION", "{what}");
        }
        assert!(
            function.gateway().core().open_connections().is_empty(),
            "{what}: registry not back to its size"
        );

        // The same function goes on.
        let ok = function.handle(
            json!({"operation": "request", "url": echo.url(), "message": {"after": what}, "timeout": TIMEOUT}),
            &invocation(),
        );
        assert_eq!(ok["success"], true, "{what}: {ok}");
    }
}

#[test]
fn an_invalid_close_code_is_reported_as_what_it_was() {
    let function = Function::new(own_gateway(ManagerConfig::default()));
    let server = breaching(Breach::InvalidCloseCode).expect("start hostile server");
    let e = fails_cleanly(
        &function,
        json!({"operation": "request", "url": server.url(), "message": {}, "timeout": TIMEOUT}),
        "WEBSOCKET_RECEIVE_FAILED",
        "close code 999",
    );
    assert_eq!(e["details"]["frame"], "close", "{e}");
    assert!(e["error"].as_str().unwrap().contains("close code"), "{e}");
}
