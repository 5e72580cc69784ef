//! Debug and timing lines, captured from the tracing output: formats, switches, correlation
//! id threading across layers, and secrets that must never show.

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

#[test]
fn line_formats_match_the_seed() {
    let _serial = tests::serial();
    everything_on();
    let echo = servers::echo();
    let cid = "fmt-check-01";
    gateway::websocket_request(&echo.url(), &json!({"type": "t", "data": 1}), T, Some(cid))
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
            &format!(
                "[{cid}] [WEBSOCKET-DEBUG] Sending message (url={}, message_keys=['type', 'data'])",
                echo.url()
            )
            .as_str()
        ),
        "{tails:#?}"
    );
    for (scope, label) in [
        ("WEBSOCKET", "connect.tcp"),
        ("WEBSOCKET", "connect.upgrade"),
        ("WEBSOCKET", "request"),
        ("INTERFACE", "request"),
        ("GATEWAY", "websocket_request"),
    ] {
        assert!(
            lines.iter().any(|l| is_timing_line(l, cid, scope, label)),
            "no {scope} timing line for {label}: {tails:#?}"
        );
    }
    // The line is the default output at INFO: no extra log level needed.
    assert!(lines.iter().all(|l| l.contains("INFO")), "{lines:#?}");
}

#[test]
fn one_correlation_id_threads_every_layer() {
    let _serial = tests::serial();
    everything_on();
    let echo = servers::echo();
    let cid = "thread-cid-7";
    let envelope =
        gateway::websocket_execute("connect", json!({"url": echo.url(), "correlation_id": cid}));
    let handle = envelope["data"]["connection"].as_str().unwrap().to_owned();
    gateway::websocket_send(&handle, &json!({"x": 1}), Some(cid)).unwrap();
    gateway::websocket_receive(&handle, T, Some(cid)).unwrap();
    gateway::websocket_close(&handle, Some(cid)).unwrap();
    let lines = capture::lines_with(cid);
    for tag in ["[GATEWAY-DEBUG]", "[INTERFACE-DEBUG]", "[WEBSOCKET-DEBUG]"] {
        assert!(
            lines.iter().any(|l| l.contains(tag)),
            "no {tag} line: {lines:#?}"
        );
    }
    for op in ["connect", "send", "receive", "close"] {
        assert!(
            lines
                .iter()
                .any(|l| l.contains(&format!("[INTERFACE-DEBUG] Dispatching operation={op}"))),
            "{op}: {lines:#?}"
        );
    }
    // A generated id is 13 characters and also threads through.
    let reply = gateway::websocket_request(&echo.url(), &json!({}), T, None).unwrap();
    assert_eq!(reply.correlation_id.len(), 13);
    let generated = capture::lines_with(&reply.correlation_id);
    assert!(generated.iter().any(|l| l.contains("[GATEWAY-DEBUG]")));
    assert!(generated.iter().any(|l| l.contains("[WEBSOCKET-DEBUG]")));
}

#[test]
fn secrets_never_reach_logs_or_envelopes() {
    let _serial = tests::serial();
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

#[test]
fn switches_gate_each_scope() {
    let _serial = tests::serial();
    let echo = servers::echo();

    // Scope on, master off: nothing.
    switches(&[
        ("WEBSOCKET_DEBUG_MODE", "true"),
        ("WEBSOCKET_DEBUG_TIMING", "true"),
    ]);
    gateway::websocket_request(&echo.url(), &json!({}), T, Some("gate-master-off")).unwrap();
    assert!(capture::lines_with("gate-master-off").is_empty());

    // Master on, only websocket debug: no gateway lines, no timing lines.
    switches(&[("DEBUG_MODE", "yes"), ("WEBSOCKET_DEBUG_MODE", "true")]);
    gateway::websocket_request(&echo.url(), &json!({}), T, Some("gate-ws-only")).unwrap();
    let lines = capture::lines_with("gate-ws-only");
    assert!(!lines.is_empty());
    assert!(
        lines.iter().all(|l| l.contains("[WEBSOCKET-DEBUG]")),
        "{lines:#?}"
    );

    // Master on, only gateway timing.
    switches(&[("DEBUG_MODE", "1"), ("GATEWAY_DEBUG_TIMING", "1")]);
    gateway::websocket_request(&echo.url(), &json!({}), T, Some("gate-gw-timing")).unwrap();
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
    gateway::websocket_request(&echo.url(), &json!({}), T, Some("gate-bad-value")).unwrap();
    assert!(capture::lines_with("gate-bad-value").is_empty());
    switches(&[]);
}
