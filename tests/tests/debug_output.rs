//! Debug and timing lines, captured from the framework's own formatting layer: formats,
//! switches, correlation id threading across layers, secrets that must never show, and
//! lines that cannot be forged.
//!
//! The switches live in the process environment, so this binary runs its checks in one
//! test function, one after the other, and needs no lock.

use std::time::Duration;

use serde_json::json;
use tests::{capture, servers};

const T: Duration = Duration::from_secs(5);

const ALL_SWITCHES: [&str; 7] = [
    "DEBUG_MODE",
    "WEBSOCKET_DEBUG_MODE",
    "WEBSOCKET_DEBUG_TIMING",
    "GATEWAY_DEBUG_MODE",
    "GATEWAY_DEBUG_TIMING",
    "INTERFACE_DEBUG_MODE",
    "INTERFACE_DEBUG_TIMING",
];

/// Sets exactly the given switches (others removed) and reloads the cache.
fn switches(on: &[(&str, &str)]) {
    for name in ALL_SWITCHES {
        std::env::remove_var(name);
    }
    for (name, value) in on {
        std::env::set_var(name, value);
    }
    debug::reload();
    capture::install();
}

fn everything_on() {
    switches(&[
        ("DEBUG_MODE", "true"),
        ("WEBSOCKET_DEBUG_MODE", "1"),
        ("WEBSOCKET_DEBUG_TIMING", "YES"),
        ("GATEWAY_DEBUG_MODE", "True"),
        ("GATEWAY_DEBUG_TIMING", "yes"),
        ("INTERFACE_DEBUG_MODE", " true "),
        ("INTERFACE_DEBUG_TIMING", "1"),
    ]);
}

/// The part of a captured line from the correlation id tag on.
fn tail(line: &str) -> &str {
    line.find('[').map_or(line, |i| &line[i..])
}

fn is_timing_line(line: &str, cid: &str, scope: &str, label: &str) -> bool {
    let prefix = format!("[{cid}] [{scope}-TIMING] {label}: ");
    let Some(rest) = tail(line).strip_prefix(&prefix) else {
        return false;
    };
    let Some(number) = rest.strip_suffix("ms") else {
        return false;
    };
    number.parse::<f64>().is_ok() && number.split('.').nth(1).is_some_and(|d| d.len() == 2)
}

fn line_formats_match_the_seed() {
    everything_on();
    let echo = servers::echo();
    let cid = "fmt-check-01";
    gateway::websocket_request(
        &echo.url(),
        &json!({"type": "t", "data": 1}),
        &gateway::Call::new().timeout(T).correlation_id(cid),
    )
    .unwrap();
    let lines = capture::lines_with(cid);
    let tails: Vec<&str> = lines.iter().map(|l| tail(l)).collect();
    let connecting = format!(
        "[{cid}] [WEBSOCKET-DEBUG] Connecting to WebSocket (url={}, timeout=5)",
        echo.url()
    );
    assert!(tails.contains(&connecting.as_str()), "{tails:#?}");
    assert!(
        tails.contains(
            &format!("[{cid}] [INTERFACE-DEBUG] Operation request (message_keys=['type', 'data'])")
                .as_str()
        ),
        "{tails:#?}"
    );
    assert!(
        tails.contains(
            &format!(
                "[{cid}] [WEBSOCKET-DEBUG] Sending text message (url={}, bytes=21)",
                echo.url()
            )
            .as_str()
        ),
        "{tails:#?}"
    );
    // A request times each of its steps once, and the call once (at the public face).
    let steps = [
        ("WEBSOCKET", "connect.tcp"),
        ("WEBSOCKET", "connect.upgrade"),
        ("WEBSOCKET", "connect"),
        ("WEBSOCKET", "send"),
        ("WEBSOCKET", "receive"),
        ("WEBSOCKET", "close"),
        ("GATEWAY", "websocket_request"),
    ];
    for (scope, label) in steps {
        let n = lines
            .iter()
            .filter(|l| is_timing_line(l, cid, scope, label))
            .count();
        assert_eq!(n, 1, "{n} {scope} timing lines for {label}: {tails:#?}");
    }
    let timing = tails.iter().filter(|l| l.contains("-TIMING]")).count();
    assert_eq!(
        timing,
        steps.len(),
        "one line per step and one for the call: {tails:#?}"
    );

    // A failing request prints one failure line, with its code and sentence.
    let failing = "fmt-check-02";
    let refused = gateway::websocket_request(
        "ws://127.0.0.1:1/",
        &json!({}),
        &gateway::Call::new().timeout(T).correlation_id(failing),
    );
    assert!(refused.is_err());
    let failed: Vec<String> = capture::lines_with(failing)
        .into_iter()
        .filter(|l| l.contains("failed"))
        .collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert!(
        failed[0].contains(
            "websocket_request failed (error_code=WEBSOCKET_CONNECT_FAILED): Could not connect"
        ),
        "{failed:#?}"
    );
    // A scope's lines say something new: no line is printed twice.
    let mut debug_lines: Vec<&str> = tails
        .iter()
        .copied()
        .filter(|l| l.contains("-DEBUG]"))
        .collect();
    let all = debug_lines.len();
    debug_lines.sort_unstable();
    debug_lines.dedup();
    assert_eq!(debug_lines.len(), all, "{tails:#?}");
}

fn one_correlation_id_threads_every_layer() {
    everything_on();
    let echo = servers::echo();
    let cid = "thread-cid-7";
    let envelope =
        gateway::websocket_execute("connect", json!({"url": echo.url(), "correlation_id": cid}));
    let handle = envelope["data"]["connection"].as_str().unwrap().to_owned();
    gateway::websocket_send(
        &handle,
        &json!({"x": 1}),
        &gateway::Call::new().correlation_id(cid),
    )
    .unwrap();
    gateway::websocket_receive(
        &handle,
        &gateway::Call::new().timeout(T).correlation_id(cid),
    )
    .unwrap();
    gateway::websocket_close(&handle, &gateway::Call::new().correlation_id(cid)).unwrap();
    let lines = capture::lines_with(cid);
    for tag in ["[GATEWAY-DEBUG]", "[INTERFACE-DEBUG]", "[WEBSOCKET-DEBUG]"] {
        assert!(
            lines.iter().any(|l| l.contains(tag)),
            "no {tag} line: {lines:#?}"
        );
    }
    for public in [
        "websocket_connect",
        "websocket_send",
        "websocket_receive",
        "websocket_close",
    ] {
        assert!(
            lines
                .iter()
                .any(|l| l.contains(&format!("[GATEWAY-DEBUG] {public} succeeded"))),
            "{public}: {lines:#?}"
        );
    }
    // A generated id is 13 characters and also threads through.
    let reply =
        gateway::websocket_request(&echo.url(), &json!({}), &gateway::Call::new().timeout(T))
            .unwrap();
    assert_eq!(reply.correlation_id.len(), 13);
    let generated = capture::lines_with(&reply.correlation_id);
    assert!(generated.iter().any(|l| l.contains("[GATEWAY-DEBUG]")));
    assert!(generated.iter().any(|l| l.contains("[WEBSOCKET-DEBUG]")));
}

fn secrets_never_reach_logs_or_envelopes() {
    everything_on();
    let echo = servers::echo();
    let port = echo.addr().port();
    let cid = "secret-check";
    let message = json!({"type": "auth", "access_token": "TOKEN-abc123-SECRET"});
    let url =
        format!("ws://alice:PASSWORD-xyz@127.0.0.1:{port}/api/websocket?token=QUERY-SECRET-42");
    let mut envelope = gateway::websocket_execute(
        "request",
        json!({"url": url, "message": message, "correlation_id": cid}),
    );
    assert_eq!(envelope["success"], true, "{envelope}");
    // The echo server's reply is the caller's own data; everything else must be clean.
    assert_eq!(envelope["data"]["response"], message);
    envelope["data"]["response"] = serde_json::Value::Null;
    // A URL that fails to connect must not leak either.
    let refused = gateway::websocket_execute(
        "request",
        json!({"url": "ws://bob:PASSWORD-xyz@127.0.0.1:1/?token=QUERY-SECRET-42", "message": message, "correlation_id": cid}),
    );
    let bad = gateway::websocket_execute(
        "request",
        json!({"url": "ws//PASSWORD-xyz:QUERY-SECRET-42", "message": message, "correlation_id": cid}),
    );
    let lines = capture::lines_with(cid);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("message_keys=['type', 'access_token']")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&format!("url=ws://127.0.0.1:{port}/api/websocket"))),
        "{lines:#?}"
    );
    let everything = format!(
        "{}\n{envelope}\n{refused}\n{bad}",
        capture::all_lines().join("\n")
    );
    for secret in [
        "TOKEN-abc123-SECRET",
        "PASSWORD-xyz",
        "QUERY-SECRET-42",
        "alice",
    ] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked: {everything}"
        );
    }
}

fn switches_gate_each_scope() {
    let echo = servers::echo();

    // Scope on, master off: nothing.
    switches(&[
        ("WEBSOCKET_DEBUG_MODE", "true"),
        ("WEBSOCKET_DEBUG_TIMING", "true"),
    ]);
    gateway::websocket_request(
        &echo.url(),
        &json!({}),
        &gateway::Call::new()
            .timeout(T)
            .correlation_id("gate-master-off"),
    )
    .unwrap();
    assert!(capture::lines_with("gate-master-off").is_empty());

    // Master on, only websocket debug: no gateway lines, no timing lines.
    switches(&[("DEBUG_MODE", "yes"), ("WEBSOCKET_DEBUG_MODE", "true")]);
    gateway::websocket_request(
        &echo.url(),
        &json!({}),
        &gateway::Call::new()
            .timeout(T)
            .correlation_id("gate-ws-only"),
    )
    .unwrap();
    let lines = capture::lines_with("gate-ws-only");
    assert!(!lines.is_empty());
    assert!(
        lines.iter().all(|l| l.contains("[WEBSOCKET-DEBUG]")),
        "{lines:#?}"
    );

    // Master on, only gateway timing.
    switches(&[("DEBUG_MODE", "1"), ("GATEWAY_DEBUG_TIMING", "1")]);
    gateway::websocket_request(
        &echo.url(),
        &json!({}),
        &gateway::Call::new()
            .timeout(T)
            .correlation_id("gate-gw-timing"),
    )
    .unwrap();
    let lines = capture::lines_with("gate-gw-timing");
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(is_timing_line(
        &lines[0],
        "gate-gw-timing",
        "GATEWAY",
        "websocket_request"
    ));

    // Values other than true/1/yes are off.
    switches(&[("DEBUG_MODE", "on"), ("WEBSOCKET_DEBUG_MODE", "true")]);
    gateway::websocket_request(
        &echo.url(),
        &json!({}),
        &gateway::Call::new()
            .timeout(T)
            .correlation_id("gate-bad-value"),
    )
    .unwrap();
    assert!(capture::lines_with("gate-bad-value").is_empty());
    switches(&[]);
}

/// Values that reach a debug line cannot start a line of their own.
fn values_cannot_forge_lines() {
    everything_on();
    let echo = servers::echo();
    let forged = "ws-1\n[forged-cid] [GATEWAY-DEBUG] all is well\u{2028}";
    gateway::websocket_execute(
        "send",
        json!({"connection": forged, "message": {"key\n[forged-cid] [WEBSOCKET-DEBUG] x": 1}, "correlation_id": "forge-check"}),
    );
    gateway::websocket_execute(
        "request",
        json!({"url": echo.url(), "message": {"k\r\n[forged-cid] x": 1}, "correlation_id": "forge-check"}),
    );
    let lines = capture::all_lines();
    assert!(
        !lines.iter().any(|l| l.starts_with("[forged-cid]")),
        "{lines:#?}"
    );
    assert!(!capture::lines_with("forge-check").is_empty());
    assert!(lines.iter().all(|l| !l.contains('\u{2028}')));
}

/// Home Assistant's words and a command's type cannot forge lines either.
fn home_assistant_values_cannot_forge_lines() {
    for name in ["DEBUG_MODE", "HA_DEBUG_MODE", "LAMBDA_DEBUG_MODE"] {
        std::env::set_var(name, "true");
    }
    debug::reload();
    let token = "forge-token-0123456789";
    let ha = peers::HaStandIn::start(token).unwrap();
    ha.set_quirks(peers::Quirks {
        ha_version: Some("2026.1\n[forged-ha] [HA-DEBUG] version".into()),
        ..Default::default()
    });
    let config = home_assistant::HaConfig::new(&ha.base_url(), token).unwrap();
    let function = lambda::Function::from_env().with_home_assistant(config);
    let invocation = lambda::Invocation::with_budget("forge-ha", T);
    let e = function.handle(
        json!({"operation": "ha_command", "command": {"type": "get_config\n[forged-ha] [HA-DEBUG] type"}}),
        &invocation,
    );
    assert_eq!(e["error_code"], "HA_COMMAND_FAILED", "{e}");
    let lines = capture::all_lines();
    assert!(
        !lines.iter().any(|l| l.starts_with("[forged-ha]")),
        "{lines:#?}"
    );
    // Not a version: replaced, never quoted.
    assert!(
        lines.iter().any(|l| l.contains("ha_version=invalid")),
        "{lines:#?}"
    );
    assert!(!lines
        .iter()
        .any(|l| l.contains("[forged-ha] [HA-DEBUG] version")));
}

/// With `AWS_LAMBDA_LOG_FORMAT=JSON` the correlation id and the scope are fields.
fn json_format_puts_the_id_and_scope_in_fields() {
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::layer::SubscriberExt;
    everything_on();
    let buffer = Arc::new(Mutex::new(Vec::<u8>::new()));
    let sink = buffer.clone();
    let subscriber = tracing_subscriber::registry()
        .with(debug::LogLayer::new(debug::LogFormat::Json, move || {
            SharedBuffer(sink.clone())
        }));
    let echo = servers::echo();
    tracing::subscriber::with_default(subscriber, || {
        gateway::websocket_request(
            &echo.url(),
            &json!({"a": 1}),
            &gateway::Call::new().timeout(T).correlation_id("json-cid"),
        )
        .unwrap();
    });
    let text = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!records.is_empty());
    for record in &records {
        assert_eq!(record["fields"]["correlation_id"], "json-cid", "{record}");
        assert_eq!(record["level"], "INFO");
        assert!(record["timestamp"].is_string());
    }
    assert!(records.iter().any(|r| r["fields"]["scope"] == "GATEWAY"
        && r["fields"]["kind"] == "timing"
        && r["fields"]["message"]
            .as_str()
            .unwrap()
            .starts_with("websocket_request: ")));
}

struct SharedBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn debug_output() {
    line_formats_match_the_seed();
    one_correlation_id_threads_every_layer();
    secrets_never_reach_logs_or_envelopes();
    values_cannot_forge_lines();
    home_assistant_values_cannot_forge_lines();
    json_format_puts_the_id_and_scope_in_fields();
    switches_gate_each_scope();
}
