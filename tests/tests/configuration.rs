//! Connection settings: the `WS_*` environment (through a lookup function, as only the
//! per-process core reads the real one), their defaults, a malformed value failing every
//! operation with `CONFIG_INVALID` naming the variable, and the precedence per call > set
//! in code > environment > default — through the gateway API and the JSON event contract.

use std::collections::HashMap;
use std::time::Duration;

use gateway::{codes, Call, ConnectOptions, ConnectionConfig, Gateway, WS_VARIABLES};
use serde_json::{json, Value};

const T: Duration = Duration::from_secs(5);

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

fn gateway_from(pairs: &[(&str, &str)]) -> Gateway {
    let owned: Vec<(&str, String)> = pairs.iter().map(|(k, v)| (*k, v.to_string())).collect();
    tests::gateway_from_env(&owned)
}

fn run(gateway: &Gateway, event: Value) -> Value {
    tests::answer(gateway, event)
}

/// A malformed value of each variable, and what the error must say about it.
const MALFORMED: [(&str, &str); 16] = [
    ("WS_OPEN_TIMEOUT", "ten"),
    ("WS_OPEN_TIMEOUT", "0"),
    ("WS_CLOSE_TIMEOUT", "-1"),
    ("WS_PING_INTERVAL", "often"),
    ("WS_PING_TIMEOUT", "901"),
    ("WS_MAX_MESSAGE_SIZE", "6MB"),
    ("WS_MAX_FRAME_SIZE", "0"),
    ("WS_MAX_QUEUE_SIZE", "100000"),
    ("WS_RECONNECT_ENABLED", "maybe"),
    ("WS_RECONNECT_MAX_ATTEMPTS", "-3"),
    ("WS_RECONNECT_BACKOFF_BASE", "NaN"),
    ("WS_RECONNECT_BACKOFF_MAX", "inf"),
    ("WS_RECONNECT_JITTER", "1.5"),
    ("WS_TLS_INSECURE", "sure"),
    ("WS_CA_CERT", "/nonexistent/ca.pem"),
    ("HTTPS_PROXY", "socks5://127.0.0.1:1080"),
];

#[test]
fn a_malformed_variable_fails_every_operation_naming_it() {
    let echo = tests::servers::echo();
    let events = [
        json!({"operation": "get_stats"}),
        json!({"operation": "connect", "url": echo.url()}),
        json!({"operation": "request", "url": echo.url(), "message": {"a": 1}}),
        json!({"operation": "send", "connection": "ws-1", "text": "x"}),
        json!({"operation": "receive", "connection": "ws-1"}),
        json!({"operation": "close", "connection": "ws-1"}),
        json!({"operation": "reset"}),
    ];
    for (variable, value) in MALFORMED {
        let gateway = gateway_from(&[(variable, value)]);
        for event in &events {
            let envelope = run(&gateway, event.clone());
            assert_eq!(envelope["success"], false, "{variable}={value}: {envelope}");
            assert_eq!(
                envelope["error_code"], "CONFIG_INVALID",
                "{variable}={value}: {envelope}"
            );
            assert_eq!(envelope["details"]["variable"], variable, "{envelope}");
            let error = envelope["error"].as_str().unwrap();
            assert!(error.contains(variable), "{error}");
        }
        // The typed face too, stats included.
        let err = gateway.get_stats().unwrap_err();
        assert_eq!(tests::failure(&err).code, codes::CONFIG_INVALID);
        let err = gateway
            .request(&echo.url(), &json!({}), &Call::new().timeout(T))
            .unwrap_err();
        assert!(err.to_string().contains(variable), "{err}");
    }
}

#[test]
fn the_lowercase_proxy_name_is_named_when_it_is_the_malformed_one() {
    let gateway = gateway_from(&[("https_proxy", "ftp://proxy:21"), ("HTTPS_PROXY", "x:1")]);
    let envelope = run(&gateway, json!({"operation": "get_stats"}));
    assert_eq!(envelope["details"]["variable"], "https_proxy", "{envelope}");
}

#[test]
fn a_proxy_password_never_appears_in_a_configuration_error() {
    let gateway = gateway_from(&[("HTTP_PROXY", "http://user:pw-SECRET-77@[::1")]);
    let envelope = run(&gateway, json!({"operation": "get_stats"}));
    assert_eq!(envelope["error_code"], "CONFIG_INVALID");
    assert!(!envelope.to_string().contains("SECRET"), "{envelope}");
}

#[test]
fn unset_and_empty_variables_take_the_documented_defaults() {
    let unset = ConnectionConfig::from_lookup(|_| None).unwrap();
    assert_eq!(unset, ConnectionConfig::default());
    let empty = ConnectionConfig::from_lookup(|_| Some("  ".into())).unwrap();
    assert_eq!(empty, ConnectionConfig::default());

    let d = ConnectionConfig::default();
    assert_eq!(d.open_timeout, Duration::from_secs(10));
    assert_eq!(d.close_timeout, Duration::from_secs(1));
    assert_eq!(d.ping_interval, Some(Duration::from_secs(20)));
    assert_eq!(d.ping_timeout, Duration::from_secs(20));
    assert_eq!(d.max_message_size, (6 << 20) - (4 << 10));
    assert_eq!(d.max_frame_size, d.max_message_size);
    assert_eq!(d.max_queue_size, 16);
    assert!(d.reconnect.enabled);
    assert_eq!(d.reconnect.max_attempts, 5);
    assert_eq!(d.reconnect.backoff_base, Duration::from_secs(1));
    assert_eq!(d.reconnect.backoff_max, Duration::from_secs(60));
    assert_eq!(d.reconnect.jitter, 0.1);
    assert!(!d.tls_insecure);
    assert_eq!(d.proxy, gateway::Proxies::default());
}

#[test]
fn well_formed_variables_are_read() {
    let config = ConnectionConfig::from_lookup(env(&[
        ("WS_OPEN_TIMEOUT", "2.5"),
        ("WS_CLOSE_TIMEOUT", "0.25"),
        ("WS_PING_INTERVAL", "None"),
        ("WS_PING_TIMEOUT", "3"),
        ("WS_MAX_MESSAGE_SIZE", "1048576"),
        ("WS_MAX_QUEUE_SIZE", "4"),
        ("WS_RECONNECT_ENABLED", "false"),
        ("WS_RECONNECT_MAX_ATTEMPTS", "0"),
        ("WS_RECONNECT_BACKOFF_BASE", "0.5"),
        ("WS_RECONNECT_BACKOFF_MAX", "30"),
        ("WS_RECONNECT_JITTER", "0"),
        ("WS_TLS_INSECURE", "false"),
        ("HTTP_PROXY", "http://127.0.0.1:3128"),
        ("no_proxy", "localhost,.internal"),
    ]))
    .unwrap();
    assert_eq!(config.open_timeout, Duration::from_millis(2500));
    assert_eq!(config.close_timeout, Duration::from_millis(250));
    assert_eq!(config.ping_interval, None);
    assert_eq!(config.ping_timeout, Duration::from_secs(3));
    assert_eq!(config.max_message_size, 1 << 20);
    // The frame limit follows the message limit unless set.
    assert_eq!(config.max_frame_size, 1 << 20);
    assert_eq!(config.max_queue_size, 4);
    assert!(!config.reconnect.enabled);
    assert_eq!(config.reconnect.max_attempts, 0);
    assert_eq!(config.reconnect.backoff_base, Duration::from_millis(500));
    assert_eq!(config.reconnect.backoff_max, Duration::from_secs(30));
    assert_eq!(config.reconnect.jitter, 0.0);
    assert_eq!(
        config.proxy.http.as_ref().map(|p| p.address()),
        Some("127.0.0.1:3128".to_owned())
    );
    assert!(config.proxy.https.is_none());
    assert!(config.proxy.no_proxy.matches("ha.internal"));
}

#[test]
fn docs_configuration_lists_every_variable_with_its_default() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/configuration.md"
    ))
    .unwrap();
    let rows: Vec<&str> = doc.lines().filter(|l| l.starts_with("| `")).collect();
    let defaults = [
        ("WS_OPEN_TIMEOUT", "10"),
        ("WS_CLOSE_TIMEOUT", "1"),
        ("WS_PING_INTERVAL", "20"),
        ("WS_PING_TIMEOUT", "20"),
        ("WS_MAX_MESSAGE_SIZE", "6287360"),
        ("WS_MAX_FRAME_SIZE", "WS_MAX_MESSAGE_SIZE"),
        ("WS_MAX_QUEUE_SIZE", "16"),
        ("WS_RECONNECT_ENABLED", "true"),
        ("WS_RECONNECT_MAX_ATTEMPTS", "5"),
        ("WS_RECONNECT_BACKOFF_BASE", "1.0"),
        ("WS_RECONNECT_BACKOFF_MAX", "60.0"),
        ("WS_RECONNECT_JITTER", "0.1"),
        ("WS_TLS_INSECURE", "false"),
        ("WS_CA_CERT", "none"),
    ];
    assert_eq!(defaults.len(), WS_VARIABLES.len());
    for (variable, default) in defaults {
        assert!(WS_VARIABLES.contains(&variable), "{variable}");
        let row = rows
            .iter()
            .find(|r| r.starts_with(&format!("| `{variable}`")))
            .unwrap_or_else(|| panic!("docs/configuration.md has no row for {variable}"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        // | variable | setter | JSON field | default | meaning |
        assert!(
            cells[4].contains(default),
            "{variable}: default cell '{}' lacks {default}",
            cells[4]
        );
    }
}

/// The open timeout's bound, read from the timeout error's details: the budget of the
/// opening is the smallest of the operation's timeout and the open timeout in force.
fn opening_budget(envelope: &Value) -> f64 {
    assert_eq!(envelope["error_code"], "WEBSOCKET_TIMEOUT", "{envelope}");
    assert_eq!(envelope["details"]["phase"], "upgrade", "{envelope}");
    envelope["details"]["timeout_seconds"].as_f64().unwrap()
}

#[test]
fn precedence_is_per_call_then_code_then_environment_then_default() {
    let silent = tests::servers::silent("ws");
    let connect = |extra: Value| {
        let mut event = json!({"operation": "connect", "url": silent.url(), "timeout": 5});
        for (k, v) in extra.as_object().unwrap() {
            event[k] = v.clone();
        }
        event
    };

    // Default: the operation's timeout (5 s) is below the default open timeout (10 s);
    // a request with a 0.4 s timeout shows the operation bounds it.
    let plain = gateway_from(&[]);
    let envelope = run(
        &plain,
        json!({"operation": "request", "url": silent.url(), "text": "x", "timeout": 0.4}),
    );
    assert!((opening_budget(&envelope) - 0.4).abs() < 0.05, "{envelope}");

    // Environment: WS_OPEN_TIMEOUT=0.3 bounds a 5 s connect.
    let from_env = gateway_from(&[("WS_OPEN_TIMEOUT", "0.3")]);
    let envelope = run(&from_env, connect(json!({})));
    assert!((opening_budget(&envelope) - 0.3).abs() < 0.05, "{envelope}");

    // Set in code, starting from the environment's: 0.2 wins over the variable.
    let core = from_env.core();
    core.set_connection_config(
        core.connection_config()
            .open_timeout(Duration::from_millis(200)),
    );
    let envelope = run(&from_env, connect(json!({})));
    assert!((opening_budget(&envelope) - 0.2).abs() < 0.05, "{envelope}");

    // Per call, in the JSON event: 0.1 wins over code.
    let envelope = run(&from_env, connect(json!({"open_timeout": 0.1})));
    assert!((opening_budget(&envelope) - 0.1).abs() < 0.05, "{envelope}");

    // Per call, through the typed face.
    let call = Call::new()
        .timeout(T)
        .options(ConnectOptions::default().open_timeout(Duration::from_millis(150)));
    let err = from_env.connect(&silent.url(), &call).unwrap_err();
    let failure = tests::failure(&err);
    let budget = failure.details["timeout_seconds"].as_f64().unwrap();
    assert!((budget - 0.15).abs() < 0.05, "{failure:?}");
}

#[test]
fn per_call_sizes_bound_the_connection_they_open() {
    let echo = tests::servers::echo();
    let gateway = gateway_from(&[("WS_MAX_MESSAGE_SIZE", "100000")]);
    let big = "y".repeat(2000);
    // The environment's limit admits it...
    let envelope = run(
        &gateway,
        json!({"operation": "request", "url": echo.url(), "text": big, "expect": "any"}),
    );
    assert_eq!(envelope["success"], true, "{envelope}");
    // ...a per-call limit refuses it, sending and (a held connection) receiving.
    let envelope = run(
        &gateway,
        json!({"operation": "request", "url": echo.url(), "text": big, "max_message_size": 1000}),
    );
    assert_eq!(envelope["error_code"], "MESSAGE_TOO_LARGE", "{envelope}");
    let opened = run(
        &gateway,
        json!({"operation": "connect", "url": echo.url(), "max_message_size": 1000}),
    );
    let handle = opened["data"]["connection"].as_str().unwrap().to_owned();
    let envelope = run(
        &gateway,
        json!({"operation": "send", "connection": handle, "text": big}),
    );
    assert_eq!(envelope["error_code"], "MESSAGE_TOO_LARGE", "{envelope}");
    assert_eq!(envelope["details"]["max_message_size"], 1000);
}

#[test]
fn per_call_fields_are_validated_and_named() {
    let gateway = gateway_from(&[]);
    for (field, value) in [
        ("open_timeout", json!(0)),
        ("close_timeout", json!("soon")),
        ("ping_interval", json!("sometimes")),
        ("ping_timeout", json!(1000)),
        ("max_message_size", json!(0)),
        ("max_frame_size", json!(1.5)),
        ("reconnect", json!("yes")),
    ] {
        let mut event = json!({"operation": "connect", "url": "ws://127.0.0.1:9"});
        event[field] = value.clone();
        let envelope = run(&gateway, event);
        assert_eq!(
            envelope["error_code"], "INVALID_PARAMETER",
            "{field}={value}: {envelope}"
        );
        assert_eq!(envelope["details"]["parameter"], field, "{envelope}");
    }
    // And accepted when well formed.
    let echo = tests::servers::echo();
    let envelope = run(
        &gateway,
        json!({"operation": "request", "url": echo.url(), "message": {"a": 1},
               "open_timeout": 2, "close_timeout": 0.5, "ping_interval": "none",
               "ping_timeout": 3, "max_message_size": 4096, "max_frame_size": 2048,
               "reconnect": false}),
    );
    assert_eq!(envelope["success"], true, "{envelope}");
}
