//! The demo: embedded loopback peers (an echo server and a Home Assistant stand-in speaking
//! the real protocol) and a handful of events through the Lambda handler, with every debug
//! and timing line on. Envelopes go to stdout, debug lines to stderr.
//!
//! `cargo run -p lambda -- demo` runs it; so does `cargo run -p lambda --example demo`.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{json, Value};

/// The token the demo's Home Assistant stand-in accepts.
const DEMO_TOKEN: &str = "demo-long-lived-access-token";

/// Every scope of the framework, switched on for the demo.
const SCOPES: [&str; 5] = ["LAMBDA", "HA", "GATEWAY", "INTERFACE", "WEBSOCKET"];

fn enable_all_debug() {
    std::env::set_var("DEBUG_MODE", "true");
    for scope in SCOPES {
        std::env::set_var(format!("{scope}_DEBUG_MODE"), "true");
        std::env::set_var(format!("{scope}_DEBUG_TIMING"), "true");
    }
    debug::reload();
}

/// Prints each event and its envelope on `out`; returns how many envelopes did not answer
/// as expected.
fn run(out: &mut impl Write) -> std::io::Result<usize> {
    let echo = peers::echo()?;
    let ha = peers::HaStandIn::start(DEMO_TOKEN)?;
    let config = home_assistant::HaConfig::new(&ha.base_url(), DEMO_TOKEN)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let function = lambda::Function::from_env().with_home_assistant(config);

    let events: Vec<(Value, bool)> = vec![
        (
            json!({"operation": "request", "url": echo.url(), "message": {"type": "hello", "data": {"from": "demo"}}, "timeout": 5}),
            true,
        ),
        (json!({"operation": "ha_get_config"}), true),
        (json!({"operation": "ha_get_states"}), true),
        (
            json!({"operation": "ha_call_service", "domain": "light", "service": "turn_on", "target": {"entity_id": "light.kitchen"}}),
            true,
        ),
        (
            json!({"operation": "ha_get_state", "entity_id": "light.kitchen"}),
            true,
        ),
        (
            json!({"operation": "ha_registry", "registry": "area"}),
            true,
        ),
        (
            json!({"operation": "ha_render_template", "template": "It is {{ states('sensor.outdoor_temperature') }} °C outside"}),
            true,
        ),
        (json!({"operation": "get_stats"}), true),
        (json!({"operation": "teleport"}), false),
    ];
    let mut surprises = 0;
    let count = events.len();
    for (i, (event, expect_success)) in events.into_iter().enumerate() {
        let invocation =
            lambda::Invocation::with_budget(&format!("demo-{:02}", i + 1), Duration::from_secs(10));
        writeln!(out, "\n>>> event {}: {event}", i + 1)?;
        let envelope = function.handle(event, &invocation);
        writeln!(out, "<<< {envelope}")?;
        if envelope["success"].as_bool() != Some(expect_success) {
            surprises += 1;
        }
    }
    writeln!(
        out,
        "\nHome Assistant stand-in: {} connection(s), {} authentication(s) for {count} invocations (warm reuse).",
        ha.connections(),
        ha.auths(),
    )?;
    Ok(surprises)
}

fn main() -> ExitCode {
    enable_all_debug();
    debug::install(std::io::stderr);
    let mut stdout = std::io::stdout().lock();
    match run(&mut stdout) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(n) => {
            eprintln!("lambda demo: {n} event(s) did not answer as expected");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("lambda demo: {e}");
            ExitCode::FAILURE
        }
    }
}
