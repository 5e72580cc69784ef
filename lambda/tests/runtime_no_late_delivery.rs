//! The real runtime loop, a warm Home Assistant session: a `call_service` whose send timed
//! out (the server read 64 KiB and stopped reading) is never completed by a later
//! invocation — its liveness `ping` used to make tungstenite write the rest of the frame,
//! and Home Assistant ran the call the caller had been told failed.

mod support;

use std::time::{Duration, Instant};

use peers::{HaStandIn, Quirks};
use serde_json::json;
use support::Runtime;

const TOKEN: &str = "late-delivery-token-7788";

#[test]
fn a_timed_out_call_service_is_never_delivered_by_the_next_invocation() {
    let ha = HaStandIn::start(TOKEN).expect("stand-in");
    let pause = Duration::from_secs(4);
    ha.set_quirks(Quirks {
        stall_reading: Some((64 << 10, pause)),
        ..Quirks::default()
    });
    let url = ha.base_url();
    let mut runtime = Runtime::start(
        &[("HA_URL", &url), ("HA_TOKEN", TOKEN)],
        Duration::from_secs(10),
        None,
    );
    let (warm, _) = runtime.invoke(&json!({"operation": "ha_ping"}));
    assert_eq!(warm["success"], true, "{warm}");

    let stalled_at = Instant::now();
    let (call, _) = runtime.invoke(&json!({
        "operation": "ha_call_service", "domain": "light", "service": "turn_on",
        "service_data": {"entity_id": "light.kitchen", "padding": "x".repeat(6_000_000)},
        "timeout": 2
    }));
    assert_eq!(call["error_code"], "WEBSOCKET_TIMEOUT", "{call}");
    assert_eq!(call["details"]["phase"], "send", "{call}");

    // Past the stand-in's pause, so it reads whatever the client still writes.
    std::thread::sleep(
        (stalled_at + pause + Duration::from_millis(500)).saturating_duration_since(Instant::now()),
    );
    let (ping, _) = runtime.invoke(&json!({"operation": "ha_ping"}));
    std::thread::sleep(Duration::from_millis(500));

    let log = ha.command_log();
    assert!(
        !log.iter().any(|c| c == "call_service"),
        "Home Assistant received the call_service after all: {log:?}"
    );
    // The session whose send failed was dropped; a fresh one answered.
    assert_eq!(ping["success"], true, "{ping}");
    assert_eq!(ping["data"]["session"]["reused"], false, "{ping}");
}
