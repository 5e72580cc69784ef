//! The binary's local modes: `invoke` (stdout envelope, exit status) and `demo`.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

fn lambda() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lambda"));
    cmd.env_remove("HA_URL").env_remove("HA_TOKEN");
    cmd
}

fn one_envelope(output: &Output) -> Value {
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "stdout must be one JSON line: {stdout}");
    serde_json::from_str(lines[0]).unwrap()
}

#[test]
fn invoke_prints_the_envelope_and_exits_zero() {
    let echo = peers::echo().unwrap();
    let event = json!({"operation": "request", "url": echo.url(), "message": {"cli": true}, "correlation_id": "cli-1"});
    let output = lambda()
        .args(["invoke", &event.to_string()])
        .env("DEBUG_MODE", "1")
        .env("WEBSOCKET_DEBUG_MODE", "1")
        .env("LAMBDA_DEBUG_TIMING", "1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let envelope = one_envelope(&output);
    assert_eq!(envelope["data"]["response"], json!({"cli": true}));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("[cli-1] [WEBSOCKET-DEBUG] Connecting to WebSocket"),
        "{stderr}"
    );
    assert!(
        stderr.contains("[cli-1] [LAMBDA-TIMING] invocation: "),
        "{stderr}"
    );
}

/// `lambda invoke -` with `event` on standard input.
fn invoke_with_stdin(event: &[u8]) -> Output {
    let mut child = lambda()
        .args(["invoke", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(event).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn invoke_reads_stdin_with_a_dash() {
    let output = invoke_with_stdin(br#"{"operation": "get_stats"}"#);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(one_envelope(&output)["data"]["max_rate_limit"], 300);
}

#[test]
fn invoke_exits_one_on_a_failed_envelope() {
    for event in [
        r#"{"operation": "nope"}"#,
        "not json",
        r#"{"operation": "ha_get_states"}"#,
    ] {
        let output = lambda().args(["invoke", event]).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{event}");
        assert_eq!(one_envelope(&output)["success"], false);
    }
}

#[test]
fn usage_errors_exit_two() {
    for args in [vec!["invoke"], vec!["fly"], vec!["invoke", "{}", "extra"]] {
        let output = lambda().args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn demo_runs_the_whole_path() {
    let output = lambda().arg("demo").output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("1 connection(s), 1 authentication(s)"),
        "{stdout}"
    );
    for tag in [
        "[LAMBDA-DEBUG]",
        "[HA-DEBUG]",
        "[GATEWAY-DEBUG]",
        "[INTERFACE-DEBUG]",
        "[WEBSOCKET-DEBUG]",
        "[WEBSOCKET-TIMING]",
    ] {
        assert!(stderr.contains(tag), "{tag} missing");
    }
    assert!(
        !stderr.contains("demo-long-lived-access-token"),
        "the token leaked"
    );
}

#[test]
fn json_log_format_carries_the_debug_lines() {
    let output = lambda()
        .args([
            "invoke",
            r#"{"operation": "get_stats", "correlation_id": "json-log-1"}"#,
        ])
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .env("DEBUG_MODE", "true")
        .env("LAMBDA_DEBUG_MODE", "true")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("json-log-1"))
        .unwrap_or_else(|| panic!("no debug line: {stderr}"));
    let record: Value = serde_json::from_str(line).unwrap();
    assert_eq!(record["level"], "INFO");
    let fields = &record["fields"];
    assert_eq!(fields["correlation_id"], "json-log-1", "{record}");
    assert_eq!(fields["scope"], "LAMBDA", "{record}");
    assert_eq!(fields["kind"], "debug", "{record}");
    let message = fields["message"].as_str().unwrap();
    assert!(
        message.starts_with("Invocation (operation=get_stats"),
        "{message}"
    );
}

#[test]
fn invalid_utf8_on_stdin_still_gets_an_envelope() {
    let output =
        invoke_with_stdin(b"{\"operation\": \"get_stats\", \"correlation_id\": \"\xff\xfe\"}");
    assert_eq!(output.status.code(), Some(1));
    let envelope = one_envelope(&output);
    assert_eq!(envelope["error_code"], "INVALID_PARAMETER", "{envelope}");
}

#[test]
fn invoke_with_a_malformed_ws_variable_exits_one_naming_it() {
    let echo = peers::echo().unwrap();
    for event in [
        json!({"operation": "get_stats"}),
        json!({"operation": "request", "url": echo.url(), "message": {"a": 1}}),
    ] {
        let output = lambda()
            .args(["invoke", &event.to_string()])
            .env("WS_OPEN_TIMEOUT", "ten seconds")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{event}");
        let envelope = one_envelope(&output);
        assert_eq!(envelope["error_code"], "CONFIG_INVALID", "{envelope}");
        assert_eq!(envelope["details"]["variable"], "WS_OPEN_TIMEOUT");
        assert!(
            envelope["error"]
                .as_str()
                .unwrap()
                .contains("WS_OPEN_TIMEOUT"),
            "{envelope}"
        );
    }
    // A well-formed value is used.
    let output = lambda()
        .args(["invoke", r#"{"operation": "get_stats"}"#])
        .env("WS_OPEN_TIMEOUT", "2.5")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
}
