//! With `AWS_LAMBDA_LOG_FORMAT=JSON`, every record the function writes is one line for any
//! reader: values carrying U+2028, U+2029, the bidi controls, DEL or C1 controls — through a
//! connection handle, a message key, a Home Assistant command type, a correlation id — are
//! escaped as `\uXXXX` (serde_json leaves them raw; JavaScript and Python's `splitlines()`
//! split on them, and bidi controls reorder what a person reads).

mod support;

use std::time::Duration;

use peers::HaStandIn;
use serde_json::{json, Value};
use support::Runtime;

const TOKEN: &str = "json-records-token-5150";
const SCOPES: [&str; 5] = ["LAMBDA", "HA", "GATEWAY", "INTERFACE", "WEBSOCKET"];

fn splits_or_reorders(c: char) -> bool {
    matches!(c, '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[test]
fn json_records_escape_line_separators_bidi_controls_del_and_c1() {
    let ha = HaStandIn::start(TOKEN).expect("stand-in");
    let echo = peers::echo().expect("echo");
    let output = std::env::temp_dir().join(format!("suga-json-{}.log", std::process::id()));
    let url = ha.base_url();
    let mut env: Vec<(String, String)> = vec![
        ("HA_URL".into(), url),
        ("HA_TOKEN".into(), TOKEN.into()),
        ("DEBUG_MODE".into(), "true".into()),
        ("AWS_LAMBDA_LOG_FORMAT".into(), "JSON".into()),
    ];
    for scope in SCOPES {
        env.push((format!("{scope}_DEBUG_MODE"), "true".into()));
        env.push((format!("{scope}_DEBUG_TIMING"), "true".into()));
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut runtime = Runtime::start(&env, Duration::from_secs(10), Some(&output));
    let odd = "a\u{2028}b\u{2029}c\u{202e}d\u{2066}e\u{7f}f\u{85}g";
    for event in [
        json!({"operation": "receive", "connection": format!("ws-1{odd}")}),
        json!({"operation": "request", "url": echo.url(), "message": {odd: 1}}),
        json!({"operation": "ha_command", "command": {"type": format!("get{odd}config")}}),
        json!({"operation": "get_stats", "correlation_id": format!("cid{}", "\u{2028}\u{202e}")}),
    ] {
        let (answer, _) = runtime.invoke(&event);
        assert!(answer.is_object(), "{answer}");
    }
    drop(runtime);
    let log = std::fs::read_to_string(&output).expect("the function's output");
    let _ = std::fs::remove_file(&output);

    let records: Vec<&str> = log.split('\n').filter(|l| !l.is_empty()).collect();
    assert!(records.len() > 10, "{log}");
    for record in &records {
        assert!(
            !record.chars().any(splits_or_reorders),
            "a raw separator or control in: {record:?}"
        );
        assert!(
            serde_json::from_str::<Value>(record).is_ok(),
            "not JSON: {record}"
        );
    }
    // The values did reach the records, escaped.
    assert!(log.contains("\\u2028") && log.contains("\\u202e"), "{log}");
}
