//! The real runtime loop against a Runtime API of the project's own (a loopback HTTP
//! server speaking Lambda's `next` / `response` protocol with a real deadline header): the
//! `lambda` binary's answer arrives before the invocation's deadline, always — when Home
//! Assistant stalls in authentication and when a warm session stalls, at a short deadline
//! and at a long one (where socket timeouts used to fire late in proportion to their length).
//!
//! cargo-lambda's emulator gives every invocation a 600 s budget, so it cannot show this.

mod support;

use std::time::Duration;

use peers::{HaStandIn, Quirks};
use serde_json::json;
use support::Runtime;

const TOKEN: &str = "runtime-token-SECRET-4242";
/// Time each invocation is given, as Lambda gives it: a deadline in epoch milliseconds.
const BUDGET: Duration = Duration::from_millis(2000);

fn start(ha: &HaStandIn, budget: Duration) -> Runtime {
    let url = ha.base_url();
    Runtime::start(&[("HA_URL", &url), ("HA_TOKEN", TOKEN)], budget, None)
}

#[test]
fn a_stalling_home_assistant_never_answers_after_the_deadline() {
    let ha = HaStandIn::start(TOKEN).expect("stand-in");
    let mut runtime = start(&ha, BUDGET);

    // A warm session first.
    let (warm, _) = runtime.invoke(&json!({"operation": "ha_get_states"}));
    assert_eq!(warm["success"], true, "{warm}");

    // The warm session stalls.
    ha.set_stalled(true);
    let (stalled, margin) = runtime.invoke(&json!({"operation": "ha_get_config", "timeout": 30}));
    assert_eq!(stalled["error_code"], "WEBSOCKET_TIMEOUT", "{stalled}");
    eprintln!("warm session stalled: answered {margin} ms before the deadline");
    assert!(
        margin > 0,
        "the answer came {}ms after the deadline",
        -margin
    );
    ha.set_stalled(false);

    // Authentication stalls (the dead session is replaced by one that never authenticates).
    ha.restart();
    ha.set_quirks(Quirks {
        stall_auth: true,
        ..Quirks::default()
    });
    let (auth, margin) = runtime.invoke(&json!({"operation": "ha_get_states", "timeout": 30}));
    assert_eq!(auth["error_code"], "WEBSOCKET_TIMEOUT", "{auth}");
    eprintln!("authentication stalled: answered {margin} ms before the deadline");
    assert!(
        margin > 0,
        "the answer came {}ms after the deadline",
        -margin
    );

    // And the same process goes on once Home Assistant does.
    ha.set_quirks(Quirks::default());
    let (after, margin) = runtime.invoke(&json!({"operation": "ha_get_states"}));
    assert_eq!(after["success"], true, "{after}");
    assert!(margin > 0);
}

/// A 25 s budget spent whole: a warm Home Assistant session that stops answering, then a
/// generic request to a peer that never answers. Socket timeouts of that length fired up to
/// 1.5 s late on Linux; the safety margin is 500 ms.
#[test]
fn a_stall_for_a_whole_25_s_budget_answers_before_the_deadline() {
    let ha = HaStandIn::start(TOKEN).expect("stand-in");
    let silent = peers::Server::start(
        "ws",
        std::sync::Arc::new(|mut stream: std::net::TcpStream| {
            let _ = std::io::copy(&mut stream, &mut std::io::sink());
        }),
    )
    .expect("silent peer");
    let budget = Duration::from_secs(25);
    let mut runtime = start(&ha, budget);
    let (warm, _) = runtime.invoke(&json!({"operation": "ha_get_states"}));
    assert_eq!(warm["success"], true, "{warm}");

    ha.set_stalled(true);
    let (stalled, margin) = runtime.invoke(&json!({"operation": "ha_get_config", "timeout": 60}));
    eprintln!("25 s budget, warm session stalled: answered {margin} ms before the deadline");
    assert_eq!(stalled["error_code"], "WEBSOCKET_TIMEOUT", "{stalled}");
    assert!(
        margin > 0,
        "the answer came {} ms after the deadline",
        -margin
    );

    let (request, margin) = runtime.invoke(&json!({
        "operation": "request", "url": silent.url(), "message": {"type": "ping"}, "timeout": 60
    }));
    eprintln!("25 s budget, silent peer: answered {margin} ms before the deadline");
    assert_eq!(request["error_code"], "WEBSOCKET_TIMEOUT", "{request}");
    assert!(
        margin > 0,
        "the answer came {} ms after the deadline",
        -margin
    );
}

/// A 25 s budget and a warm session that became a black hole while the container was
/// frozen (the socket open, nothing coming back): the next invocation's liveness check is
/// cut to half the time left, finds it dead, and a new session answers — before the
/// deadline, with the default 20 s ping timeout.
#[test]
fn a_black_hole_after_a_pause_is_replaced_within_a_25_s_budget() {
    let ha = HaStandIn::start(TOKEN).expect("stand-in");
    let budget = Duration::from_secs(25);
    let url = ha.base_url();
    let mut runtime = Runtime::start(
        &[
            ("HA_URL", &url),
            ("HA_TOKEN", TOKEN),
            ("WS_PING_INTERVAL", "1"),
        ],
        budget,
        None,
    );
    let (warm, _) = runtime.invoke(&json!({"operation": "ha_get_states"}));
    assert_eq!(warm["success"], true, "{warm}");

    ha.black_hole();
    std::thread::sleep(Duration::from_millis(1500));
    let (answer, margin) = runtime.invoke(&json!({"operation": "ha_get_config", "timeout": 60}));
    eprintln!("25 s budget, black hole after a pause: answered {margin} ms before the deadline");
    assert_eq!(answer["success"], true, "{answer}");
    assert_eq!(answer["data"]["session"]["reused"], false, "{answer}");
    // The check waited half of the 24.5 s the call had, not its 20 s ping timeout.
    assert!(
        (10_000..14_000).contains(&margin),
        "answered {margin} ms before the deadline"
    );
    assert_eq!(ha.connections(), 2);
}
