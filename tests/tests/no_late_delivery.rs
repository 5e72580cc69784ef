//! A message reported as not delivered is never delivered later: a send that timed out
//! with part of its frame written breaks the connection, so neither the next send nor the
//! close can finish the frame (tungstenite keeps the rest queued and would write it).
//!
//! The peer reads 64 KiB, stops reading for 3 s (with a 16 KiB receive buffer, so the
//! kernel cannot absorb the stall), then reads on and records every complete message.

use std::time::{Duration, Instant};

use peers::StalledReader;
use serde_json::json;

/// Larger than the client's send buffer and the peer's receive buffer together.
const BIG: usize = 6_000_000;

fn wait_until_ended(reader: &StalledReader, connections: usize) {
    let until = Instant::now() + Duration::from_secs(20);
    while reader.ended() < connections && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        reader.ended(),
        connections,
        "the peer's connection never ended"
    );
}

/// A gateway of its own and a connection it holds to a peer that stalls after 64 KiB.
fn held_connection_to_a_stalled_reader() -> (StalledReader, gateway::Gateway, String) {
    let reader = StalledReader::start(64 << 10, Duration::from_secs(3)).expect("peer");
    let gateway = tests::own_gateway(gateway::ManagerConfig::default());
    let handle = gateway
        .connect(
            &reader.url(),
            &gateway::Call::new().timeout(Duration::from_secs(5)),
        )
        .expect("connect")
        .connection
        .to_string();
    (reader, gateway, handle)
}

#[test]
fn a_send_that_timed_out_is_not_completed_by_the_next_send_or_the_close() {
    let (reader, gateway, handle) = held_connection_to_a_stalled_reader();

    let big = json!({"padding": "x".repeat(BIG)});
    let err = gateway
        .send(
            handle.as_str(),
            &big,
            &gateway::Call::new().timeout(Duration::from_secs(1)),
        )
        .expect_err("the peer stopped reading");
    // The connection is gone: nothing more is written on it.
    let next = gateway.send(
        handle.as_str(),
        &json!({"n": 1}),
        &gateway::Call::new().timeout(Duration::from_secs(5)),
    );
    let close = gateway.close(handle.as_str(), &gateway::Call::new());
    wait_until_ended(&reader, 1);
    let received = reader.messages();
    assert!(
        received.iter().all(|&size| size < BIG),
        "the peer received the timed-out message after all: {received:?}"
    );

    let failure = tests::failure(&err);
    assert_eq!(failure.code, gateway::codes::WEBSOCKET_TIMEOUT, "{err}");
    assert_eq!(failure.details["phase"], "send");
    assert!(
        failure.message.contains("not delivered"),
        "{}",
        failure.message
    );
    assert_eq!(
        tests::failure(&next.expect_err("dropped")).code,
        gateway::codes::WEBSOCKET_NO_CONNECTION
    );
    assert!(close.is_err(), "{close:?}");
    assert!(gateway.core().open_connections().is_empty());
}

#[test]
fn a_held_connection_closed_after_a_timed_out_send_sends_nothing_more() {
    let (reader, gateway, handle) = held_connection_to_a_stalled_reader();
    let big = json!({"padding": "x".repeat(BIG)});
    assert!(gateway
        .send(
            handle.as_str(),
            &big,
            &gateway::Call::new().timeout(Duration::from_millis(800))
        )
        .is_err());
    // A close with a long budget must not wait for the peer to read the rest.
    let start = Instant::now();
    let _ = gateway.close(
        handle.as_str(),
        &gateway::Call::new().timeout(Duration::from_secs(5)),
    );
    let took = start.elapsed();
    wait_until_ended(&reader, 1);
    let received = reader.messages();
    assert!(received.iter().all(|&size| size < BIG), "{received:?}");
    assert!(took < Duration::from_secs(1), "{took:?}");
}
