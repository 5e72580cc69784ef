//! Home Assistant events dropped to keep the backlog within its bounds are reported, never
//! silent: in the answer of the command whose wait dropped them (`events_dropped`), in the
//! session's running total (`events_dropped_total`), and as a debug line when it happens.
//! 12,000 small events pass the backlog's count bound; 20 events of 1 MiB its byte bound.

mod support;

use std::time::Duration;

use peers::{HaStandIn, Quirks};
use serde_json::json;
use support::Runtime;

const TOKEN: &str = "events-dropped-token-2600";

#[test]
fn dropped_events_are_reported_in_the_answer_the_session_and_a_debug_line() {
    let ha = HaStandIn::start(TOKEN).expect("stand-in");
    let output = std::env::temp_dir().join(format!("suga-dropped-{}.log", std::process::id()));
    let url = ha.base_url();
    let env = [
        ("HA_URL", url.as_str()),
        ("HA_TOKEN", TOKEN),
        ("DEBUG_MODE", "true"),
        ("HA_DEBUG_MODE", "true"),
    ];
    let mut runtime = Runtime::start(&env, Duration::from_secs(20), Some(&output));
    let (sub, _) = runtime
        .invoke(&json!({"operation": "ha_command", "command": {"type": "subscribe_events"}}));
    assert_eq!(sub["success"], true, "{sub}");
    assert!(
        sub["data"]["session"].get("events_dropped").is_none(),
        "{sub}"
    );

    ha.set_quirks(Quirks {
        events_before_result: 12_000,
        ..Quirks::default()
    });
    let (small, _) = runtime.invoke(&json!({"operation": "ha_get_config", "timeout": 15}));
    assert_eq!(small["success"], true, "{}", small["error"]);
    let first = small["data"]["session"]["events_dropped"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(first, 2_000, "{}", small["data"]["session"]);

    ha.set_quirks(Quirks {
        events_before_result: 20,
        event_padding: 1 << 20,
        ..Quirks::default()
    });
    let (large, _) = runtime.invoke(&json!({"operation": "ha_get_config", "timeout": 15}));
    assert_eq!(large["success"], true, "{}", large["error"]);
    let second = large["data"]["session"]["events_dropped"]
        .as_u64()
        .unwrap_or(0);
    assert!(second >= 12, "{}", large["data"]["session"]);
    assert_eq!(
        large["data"]["session"]["events_dropped_total"].as_u64(),
        Some(first + second),
        "{}",
        large["data"]["session"]
    );
    eprintln!(
        "dropped: {first} small events, then {second} (the 1 MiB events pushed out the small ones)"
    );

    drop(runtime);
    let log = std::fs::read_to_string(&output).expect("the function's output");
    let _ = std::fs::remove_file(&output);
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("Backlog full")).collect();
    assert!(
        !lines.is_empty(),
        "no debug line about dropped events:\n{log}"
    );
    // A flood is reported, not narrated: a line at the first drop and at each thousand.
    assert!(lines.len() < 100, "{} lines", lines.len());
}
