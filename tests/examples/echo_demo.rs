//! Starts a loopback echo server and runs one request through the gateway with every
//! debug and timing switch on, printing the envelope.
//!
//! `cargo run -p tests --example echo_demo`

use std::time::Duration;

fn main() {
    for name in [
        "DEBUG_MODE",
        "GATEWAY_DEBUG_MODE",
        "GATEWAY_DEBUG_TIMING",
        "INTERFACE_DEBUG_MODE",
        "INTERFACE_DEBUG_TIMING",
        "WEBSOCKET_DEBUG_MODE",
        "WEBSOCKET_DEBUG_TIMING",
    ] {
        std::env::set_var(name, "true");
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();

    let echo = tests::servers::echo();
    let message = serde_json::json!({"type": "hello", "data": {"from": "echo_demo"}});
    let result = gateway::websocket_request(
        &echo.url(),
        &message,
        &gateway::Call::new().timeout(Duration::from_secs(5)),
    );
    println!("{}", gateway::envelope(&result));
}
