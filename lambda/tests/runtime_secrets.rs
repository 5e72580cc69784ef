//! The real runtime loop with every debug and timing line on, in the text and the JSON log
//! formats: servers that reflect our secrets into every string they send — Home Assistant's
//! `ha_version`, results (values and keys), error codes and messages, template output, a
//! close reason; a generic server echoing the `?token=` of its URL and every header it got
//! (`Authorization` included) into a reply and a close reason — leak them into no envelope
//! and no log line.

mod support;

use std::time::Duration;

use peers::{HaStandIn, Quirks};
use serde_json::{json, Value};
use support::Runtime;

const TOKEN: &str = "reflected-token-SECRET-31337";
const URL_TOKEN: &str = "url-query-SECRET-4711";
const HEADER_SECRET: &str = "Bearer header-SECRET-0042";
const SCOPES: [&str; 5] = ["LAMBDA", "HA", "GATEWAY", "INTERFACE", "WEBSOCKET"];

fn run(format: &str) {
    let ha = HaStandIn::start(TOKEN).expect("stand-in");
    ha.set_quirks(Quirks {
        reflect_token_everywhere: true,
        ..Quirks::default()
    });
    let reflector = peers::reflector().expect("reflector");
    let generic = format!(
        "{}reflect?token={URL_TOKEN}",
        reflector.url().trim_end_matches('/').to_owned() + "/"
    );
    let stderr =
        std::env::temp_dir().join(format!("suga-secrets-{}-{format}.log", std::process::id()));
    let url = ha.base_url();
    let mut env: Vec<(String, String)> = vec![
        ("HA_URL".into(), url),
        ("HA_TOKEN".into(), TOKEN.into()),
        ("DEBUG_MODE".into(), "true".into()),
        ("AWS_LAMBDA_LOG_FORMAT".into(), format.into()),
    ];
    for scope in SCOPES {
        env.push((format!("{scope}_DEBUG_MODE"), "true".into()));
        env.push((format!("{scope}_DEBUG_TIMING"), "true".into()));
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut runtime = Runtime::start(&env, Duration::from_secs(10), Some(&stderr));

    let events = [
        json!({"operation": "ha_get_states"}),
        json!({"operation": "ha_get_config"}),
        json!({"operation": "ha_ping"}),
        json!({"operation": "ha_command", "command": {"type": "no_such_command"}}),
        json!({"operation": "ha_render_template", "template": "{{ states('light.kitchen') }}"}),
        json!({"operation": "ha_registry", "registry": "area"}),
        json!({"operation": "ha_command", "command": {"type": "close_me"}}),
        json!({"operation": "ha_get_config"}),
        json!({"operation": "request", "url": generic, "message": {"type": "hello"}, "expect": "json"}),
        json!({"operation": "connect", "url": generic, "headers": {"Authorization": HEADER_SECRET}}),
    ];
    let mut answers: Vec<Value> = events.iter().map(|e| runtime.invoke(e).0).collect();
    let handle = answers
        .last()
        .and_then(|a| a["data"]["connection"].as_str())
        .map(str::to_owned)
        .expect("a connection handle");
    for event in [
        json!({"operation": "send", "connection": handle, "message": {"n": 1}}),
        json!({"operation": "receive", "connection": handle, "expect": "text"}),
        json!({"operation": "send", "connection": handle, "message": {"n": 2}}),
        json!({"operation": "receive", "connection": handle}),
    ] {
        answers.push(runtime.invoke(&event).0);
    }
    drop(runtime);
    let log = std::fs::read_to_string(&stderr).expect("the function's stderr");
    let _ = std::fs::remove_file(&stderr);

    let all = answers
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    for secret in [TOKEN, URL_TOKEN, "header-SECRET-0042"] {
        assert!(
            !all.contains(secret),
            "{format}: an envelope holds {secret}:\n{all}"
        );
        assert!(
            !log.contains(secret),
            "{format}: a log line holds {secret}:\n{log}"
        );
    }
    // The servers did reflect, and the function went on: the test can fail.
    assert!(all.contains("<redacted>"), "{all}");
    assert_eq!(
        answers[0]["data"]["session"]["ha_version"], "invalid",
        "{}",
        answers[0]
    );
    assert_eq!(
        answers[3]["error_code"], "HA_COMMAND_FAILED",
        "{}",
        answers[3]
    );
    assert_eq!(
        answers[8]["error_code"], "WEBSOCKET_PARSE_FAILED",
        "{}",
        answers[8]
    );
    assert!(log.contains("Reusing session"), "{log}");
    assert!(log.lines().count() > 50, "{log}");
    if format == "JSON" {
        for line in log.lines() {
            assert!(
                serde_json::from_str::<Value>(line).is_ok(),
                "not one JSON record: {line}"
            );
        }
    }
}

#[test]
fn reflected_secrets_reach_no_envelope_and_no_text_log_line() {
    run("Text");
}

#[test]
fn reflected_secrets_reach_no_envelope_and_no_json_log_record() {
    run("JSON");
}
