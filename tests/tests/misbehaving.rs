//! Servers that stall, lie or close: each ends in its error code within its timeout + 10%.

use std::time::{Duration, Instant};

use gateway::Error;
use serde_json::json;
use tests::pki::TestPki;
use tests::servers;

/// Asserts that `run` failed with `code` after between 95% and 110% of `timeout`.
fn assert_times_out(timeout: Duration, phase: &str, run: impl FnOnce() -> Result<(), Error>) {
    let start = Instant::now();
    let err = run().expect_err("must fail");
    let elapsed = start.elapsed();
    assert_eq!(
        tests::failure(&err).code,
        gateway::codes::WEBSOCKET_TIMEOUT,
        "{err}"
    );
    assert_eq!(tests::failure(&err).details["phase"], phase, "{err:?}");
    assert!(
        elapsed >= timeout.mul_f64(0.95) && elapsed <= timeout.mul_f64(1.10),
        "{phase}: took {elapsed:?} for a timeout of {timeout:?}"
    );
}

#[test]
fn never_answered_upgrade_times_out_in_upgrade() {
    let server = servers::silent("ws");
    let timeout = Duration::from_millis(800);
    assert_times_out(timeout, "upgrade", || {
        gateway::websocket_request(
            &server.url(),
            &json!({}),
            &gateway::Call::new().timeout(timeout),
        )
        .map(drop)
    });
    assert_times_out(timeout, "upgrade", || {
        gateway::websocket_connect(&server.url(), &gateway::Call::new().timeout(timeout)).map(drop)
    });
}

#[test]
fn stalled_tls_handshake_times_out_in_tls_handshake() {
    let server = servers::silent("wss");
    let timeout = Duration::from_millis(800);
    assert_times_out(timeout, "tls_handshake", || {
        gateway::websocket_request(
            &server.url(),
            &json!({}),
            &gateway::Call::new().timeout(timeout),
        )
        .map(drop)
    });
}

#[test]
fn silent_after_upgrade_times_out_in_receive() {
    let server = servers::mute_after_upgrade();
    let timeout = Duration::from_millis(800);
    assert_times_out(timeout, "receive", || {
        gateway::websocket_request(
            &server.url(),
            &json!({"q": 1}),
            &gateway::Call::new().timeout(timeout),
        )
        .map(drop)
    });

    let conn =
        gateway::websocket_connect(&server.url(), &gateway::Call::new().timeout(timeout)).unwrap();
    let h = conn.connection.as_str();
    gateway::websocket_send(h, &json!({"q": 2}), &gateway::Call::new()).unwrap();
    assert_times_out(timeout, "receive", || {
        gateway::websocket_receive(h, &gateway::Call::new().timeout(timeout)).map(drop)
    });
    // A timed-out receive leaves the connection usable.
    gateway::websocket_send(h, &json!({"q": 3}), &gateway::Call::new()).unwrap();
    gateway::websocket_close(h, &gateway::Call::new()).unwrap();
}

#[test]
fn non_json_reply_is_a_parse_error_with_preview() {
    let server = servers::non_json();
    let err = gateway::websocket_request(
        &server.url(),
        &json!({"q": 1}),
        &gateway::Call::new().timeout(Duration::from_secs(5)),
    )
    .unwrap_err();
    assert_eq!(
        tests::failure(&err).code,
        gateway::codes::WEBSOCKET_PARSE_FAILED
    );
    assert_eq!(tests::failure(&err).details["preview"], "hello, not json");
}

#[test]
fn abrupt_close_is_connection_closed() {
    let server = servers::abrupt_close();
    let timeout = Duration::from_secs(5);
    let start = Instant::now();
    let err = gateway::websocket_request(
        &server.url(),
        &json!({"q": 1}),
        &gateway::Call::new().timeout(timeout),
    )
    .unwrap_err();
    assert_eq!(
        tests::failure(&err).code,
        gateway::codes::WEBSOCKET_CONNECTION_CLOSED,
        "{err:?}"
    );
    assert!(start.elapsed() < timeout);

    // On a registered connection, the dead handle leaves the registry.
    let conn =
        gateway::websocket_connect(&server.url(), &gateway::Call::new().timeout(timeout)).unwrap();
    let h = conn.connection.as_str();
    gateway::websocket_send(h, &json!({"q": 1}), &gateway::Call::new()).unwrap();
    let err = gateway::websocket_receive(h, &gateway::Call::new().timeout(timeout)).unwrap_err();
    assert_eq!(
        tests::failure(&err).code,
        gateway::codes::WEBSOCKET_CONNECTION_CLOSED,
        "{err:?}"
    );
    let err = gateway::websocket_receive(h, &gateway::Call::new().timeout(timeout)).unwrap_err();
    assert_eq!(
        tests::failure(&err).code,
        gateway::codes::WEBSOCKET_NO_CONNECTION
    );
}

#[test]
fn half_read_message_survives_a_timeout() {
    let server = servers::split_frame(Duration::from_millis(600));
    let conn = gateway::websocket_connect(
        &server.url(),
        &gateway::Call::new().timeout(Duration::from_secs(5)),
    )
    .unwrap();
    let h = conn.connection.as_str();
    gateway::websocket_send(h, &json!({"go": true}), &gateway::Call::new()).unwrap();
    let err =
        gateway::websocket_receive(h, &gateway::Call::new().timeout(Duration::from_millis(250)))
            .unwrap_err();
    assert_eq!(tests::failure(&err).code, gateway::codes::WEBSOCKET_TIMEOUT);
    let got = gateway::websocket_receive(h, &gateway::Call::new().timeout(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(got.message().unwrap()["part"], "complete");
    gateway::websocket_close(h, &gateway::Call::new()).unwrap();
}

#[test]
fn untrusted_certificate_is_tls_failed() {
    // This CA is never added to the client's roots.
    let pki = TestPki::generate();
    let server = servers::tls_echo(&pki);
    let err = gateway::websocket_request(
        &server.url(),
        &json!({}),
        &gateway::Call::new().timeout(Duration::from_secs(5)),
    )
    .unwrap_err();
    assert_eq!(
        tests::failure(&err).code,
        gateway::codes::WEBSOCKET_TLS_FAILED,
        "{err:?}"
    );
    assert_eq!(tests::failure(&err).details["phase"], "tls_handshake");
}

#[test]
fn timeouts_are_reported_in_the_envelope() {
    let server = servers::mute_after_upgrade();
    let e = gateway::websocket_execute(
        "request",
        json!({"url": server.url(), "message": {}, "timeout": 0.3, "correlation_id": "mis-env"}),
    );
    assert_eq!(e["success"], false);
    assert_eq!(e["error_code"], "WEBSOCKET_TIMEOUT");
    assert_eq!(e["details"]["phase"], "receive");
    assert_eq!(e["details"]["correlation_id"], "mis-env");
    assert_eq!(e["error"], "Timed out after 0.300 s during receive.");
}

#[test]
fn full_accept_queue_times_out_in_connect() {
    // A listener that never accepts: once its accept queue is full, the kernel drops new
    // SYNs and a TCP connect hangs.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut held = Vec::new();
    let mut full = false;
    for _ in 0..2000 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)) {
            Ok(s) => held.push(s),
            Err(_) => {
                full = true;
                break;
            }
        }
    }
    assert!(
        full,
        "the accept queue never filled ({} connections)",
        held.len()
    );
    let timeout = Duration::from_millis(700);
    assert_times_out(timeout, "connect", || {
        gateway::websocket_request(
            &format!("ws://{addr}/"),
            &json!({}),
            &gateway::Call::new().timeout(timeout),
        )
        .map(drop)
    });
}
