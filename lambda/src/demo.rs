//! `lambda demo`: embedded loopback peers and a handful of events through the handler,
//! with every debug and timing line on.

use std::io::Write;

use serde_json::{json, Value};

use crate::{handle, Invocation};

/// The token the demo's Home Assistant stand-in accepts.
pub const DEMO_TOKEN: &str = "demo-long-lived-access-token";

/// Switches on every debug and timing scope (before any line is logged).
pub fn enable_all_debug() {
    std::env::set_var("DEBUG_MODE", "true");
    for scope in debug::Scope::ALL {
        std::env::set_var(format!("{}_DEBUG_MODE", scope.name()), "true");
        std::env::set_var(format!("{}_DEBUG_TIMING", scope.name()), "true");
    }
    debug::reload();
}

/// Runs the demo: prints each event and its envelope on `out`; debug lines go wherever the
/// tracing subscriber writes. Returns how many envelopes were not successful where success
/// was expected.
pub fn run(out: &mut impl Write) -> std::io::Result<usize> {
    let echo = peers::echo()?;
    let ha = peers::HaStandIn::start(DEMO_TOKEN)?;
    std::env::set_var("HA_URL", ha.base_url());
    std::env::set_var("HA_TOKEN", DEMO_TOKEN);
    enable_all_debug();

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
    for (i, (event, expect_success)) in events.iter().enumerate() {
        let invocation = Invocation::with_budget(
            &format!("demo-{:02}", i + 1),
            std::time::Duration::from_secs(10),
        );
        writeln!(out, "\n>>> event {}: {event}", i + 1)?;
        let envelope = handle(event, &invocation);
        writeln!(out, "<<< {envelope}")?;
        if envelope["success"].as_bool() != Some(*expect_success) {
            surprises += 1;
        }
    }
    writeln!(
        out,
        "\nHome Assistant stand-in: {} connection(s), {} authentication(s) for {} invocations (warm reuse).",
        ha.connections(),
        ha.auths(),
        events.len()
    )?;
    Ok(surprises)
}
