//! The Lambda handler: every operation of the event contract and every error path, against
//! loopback peers. Each test builds its own function over a core of its own, with its Home
//! Assistant given in code, so tests share neither counters nor the environment (but for
//! the one test about the environment).

use std::time::{Duration, Instant};

use gateway::ManagerConfig;
use home_assistant::HaConfig;
use lambda::{Function, Invocation};
use peers::HaStandIn;
use serde_json::{json, Value};
use tests::{own_gateway, servers};

const TOKEN: &str = "handler-token-SECRET-42";

fn inv() -> Invocation {
    Invocation::with_budget("req-handler", Duration::from_secs(10))
}

/// A function over a core of its own; Home Assistant from the environment.
fn function() -> Function {
    Function::new(own_gateway(ManagerConfig::default()))
}

/// A stand-in accepting `TOKEN`, and a function that talks to it with `token`.
fn with_ha(token: &str) -> (HaStandIn, Function) {
    let ha = HaStandIn::start(TOKEN).unwrap();
    let config = HaConfig::new(&ha.base_url(), token).unwrap();
    (ha, function().with_home_assistant(config))
}

fn ok(envelope: &Value) -> &Value {
    assert_eq!(envelope["success"], true, "{envelope}");
    &envelope["data"]
}

#[test]
fn websocket_operations_through_events() {
    let f = function();
    let echo = servers::echo();
    let data = f
        .handle(
            json!({"operation": "request", "url": echo.url(), "message": {"a": 1}, "timeout": 3}),
            &inv(),
        )
        .clone();
    assert_eq!(ok(&data)["response"], json!({"a": 1}));

    let connected = f.handle(json!({"operation": "connect", "url": echo.url()}), &inv());
    let handle_id = ok(&connected)["connection"].as_str().unwrap().to_owned();
    ok(&f.handle(
        json!({"operation": "send", "connection": handle_id, "message": {"b": 2}}),
        &inv(),
    ));
    let received = f.handle(
        json!({"operation": "receive", "connection": handle_id, "timeout": 2}),
        &inv(),
    );
    assert_eq!(ok(&received)["message"], json!({"b": 2}));
    ok(&f.handle(
        json!({"operation": "close", "connection": handle_id}),
        &inv(),
    ));
    let stats = f.handle(json!({"operation": "get_stats"}), &inv());
    assert!(ok(&stats)["total_operations"].as_u64().unwrap() >= 5);
    let reset = f.handle(json!({"operation": "reset"}), &inv());
    assert_eq!(ok(&reset)["correlation_id"], "req-handler");
}

#[test]
fn correlation_id_comes_from_the_event_else_the_request_id() {
    let f = function();
    let e = f.handle(
        json!({"operation": "reset", "correlation_id": "mine-1"}),
        &inv(),
    );
    assert_eq!(ok(&e)["correlation_id"], "mine-1");
    let e = f.handle(json!({"operation": "reset"}), &inv());
    assert_eq!(ok(&e)["correlation_id"], "req-handler");
    let e = f.handle(
        json!({"operation": "reset"}),
        &Invocation::with_budget("", Duration::from_secs(5)),
    );
    assert_eq!(ok(&e)["correlation_id"].as_str().unwrap().len(), 13);
}

#[test]
fn every_ha_operation_against_the_stand_in() {
    let (ha, f) = with_ha(TOKEN);
    let run = |event: Value| f.handle(event.clone(), &inv());

    let states = run(json!({"operation": "ha_get_states"}));
    assert_eq!(ok(&states)["result"].as_array().unwrap().len(), 3);
    assert_eq!(ok(&states)["session"]["reused"], false);

    let call = run(
        json!({"operation": "ha_call_service", "domain": "light", "service": "turn_on",
                          "service_data": {"brightness": 200}, "target": {"entity_id": "light.kitchen"}}),
    );
    assert!(ok(&call)["result"]["context"].is_object());
    let state = run(json!({"operation": "ha_get_state", "entity_id": "light.kitchen"}));
    assert_eq!(ok(&state)["result"]["state"], "on");
    let config = run(json!({"operation": "ha_get_config"}));
    assert_eq!(ok(&config)["result"]["location_name"], "Stand-in Home");
    let services = run(json!({"operation": "ha_get_services"}));
    assert!(ok(&services)["result"]["switch"].is_object());
    for (registry, key) in [
        ("entity", "entity_id"),
        ("area", "area_id"),
        ("device", "id"),
    ] {
        let list = run(json!({"operation": "ha_registry", "registry": registry}));
        assert!(ok(&list)["result"][0][key].is_string(), "{list}");
    }
    let text = run(
        json!({"operation": "ha_render_template", "template": "{{ states('switch.coffee_maker') }}"}),
    );
    assert_eq!(ok(&text)["result"], "off");
    let raw = run(json!({"operation": "ha_command", "command": {"type": "get_config"}}));
    assert_eq!(ok(&raw)["result"]["state"], "RUNNING");
    let ping = run(json!({"operation": "ha_ping"}));
    assert!(ok(&ping)["result"]["round_trip_ms"].as_f64().is_some());

    // Warm reuse across all those invocations: one connection, one authentication.
    assert_eq!(ok(&ping)["session"]["reused"], true);
    assert_eq!(ha.connections(), 1);
    assert_eq!(ha.auths(), 1);
}

#[test]
fn warm_invocation_opens_no_new_connection() {
    let (ha, f) = with_ha(TOKEN);
    ok(&f.handle(json!({"operation": "ha_get_states"}), &inv()));
    let second = f.handle(json!({"operation": "ha_get_states"}), &inv());
    assert_eq!(ok(&second)["session"]["reused"], true);
    assert_eq!(ha.connections(), 1);
    assert_eq!(ha.auths(), 1);
}

#[test]
fn restart_between_invocations_reconnects() {
    let (ha, f) = with_ha(TOKEN);
    ok(&f.handle(json!({"operation": "ha_get_states"}), &inv()));
    ha.restart();
    let second = f.handle(json!({"operation": "ha_get_config"}), &inv());
    assert_eq!(ok(&second)["session"]["reused"], false);
    assert_eq!(ha.auths(), 2);
}

#[test]
fn missing_environment_is_config_missing() {
    let f = function();
    std::env::remove_var("HA_URL");
    std::env::set_var("HA_TOKEN", TOKEN);
    let e = f.handle(json!({"operation": "ha_get_states"}), &inv());
    assert_eq!(e["error_code"], "CONFIG_MISSING");
    assert_eq!(e["details"]["variable"], "HA_URL");
    std::env::set_var("HA_URL", "http://127.0.0.1:1");
    std::env::remove_var("HA_TOKEN");
    let e = f.handle(json!({"operation": "ha_get_states"}), &inv());
    assert_eq!(e["details"]["variable"], "HA_TOKEN");
    std::env::set_var("HA_TOKEN", TOKEN);
    std::env::set_var("HA_CA_CERT", "/nonexistent/ca.pem");
    let e = f.handle(json!({"operation": "ha_get_states"}), &inv());
    assert_eq!(e["details"]["variable"], "HA_CA_CERT");
    std::env::remove_var("HA_CA_CERT");
    assert!(!e.to_string().contains(TOKEN));
}

#[test]
fn bad_token_is_auth_failed_without_the_token() {
    let (_ha, f) = with_ha("WRONG-secret-token-xyz");
    let e = f.handle(json!({"operation": "ha_get_states"}), &inv());
    assert_eq!(e["error_code"], "HA_AUTH_FAILED");
    assert!(!e.to_string().contains("WRONG-secret-token-xyz"));
}

#[test]
fn home_assistant_error_result() {
    let (_ha, f) = with_ha(TOKEN);
    let e = f.handle(
        json!({"operation": "ha_call_service", "domain": "vacuum", "service": "fly"}),
        &inv(),
    );
    assert_eq!(e["error_code"], "HA_COMMAND_FAILED");
    assert_eq!(e["details"]["ha_error_code"], "not_found");
    assert_eq!(e["details"]["correlation_id"], "req-handler");
}

#[test]
fn timeout_and_a_deadline_shorter_than_it() {
    let f = function();
    let mute = servers::mute_after_upgrade();
    // The event's own timeout.
    let e = f.handle(
        json!({"operation": "request", "url": mute.url(), "message": {}, "timeout": 0.4}),
        &inv(),
    );
    assert_eq!(e["error_code"], "WEBSOCKET_TIMEOUT");
    assert!(e["details"].get("cut_by_deadline").is_none());

    // 1.5 s left in the invocation, 10 s asked: cut to 1.5 s - safety margin.
    let invocation = Invocation::with_budget("req-short", Duration::from_millis(1500));
    let allowed = Duration::from_millis(1500) - lambda::SAFETY_MARGIN;
    let start = Instant::now();
    let e = f.handle(
        json!({"operation": "request", "url": mute.url(), "message": {}, "timeout": 10}),
        &invocation,
    );
    let elapsed = start.elapsed();
    assert_eq!(e["error_code"], "WEBSOCKET_TIMEOUT", "{e}");
    assert_eq!(e["details"]["cut_by_deadline"], true);
    assert!(elapsed <= allowed.mul_f64(1.1), "{elapsed:?}");

    // The same for Home Assistant operations against a hanging server.
    let (ha, f) = with_ha(TOKEN);
    ok(&f.handle(json!({"operation": "ha_get_states"}), &inv()));
    ha.set_stalled(true);
    let invocation = Invocation::with_budget("req-ha-short", Duration::from_millis(1200));
    let start = Instant::now();
    let e = f.handle(
        json!({"operation": "ha_get_config", "timeout": 30}),
        &invocation,
    );
    assert_eq!(e["error_code"], "WEBSOCKET_TIMEOUT", "{e}");
    assert!(
        start.elapsed() <= Duration::from_millis(1200),
        "{:?}",
        start.elapsed()
    );
    ha.set_stalled(false);

    // No time left at all: answered at once.
    let spent = Invocation::with_budget("req-spent", Duration::from_millis(100));
    let e = f.handle(
        json!({"operation": "request", "url": mute.url(), "message": {}}),
        &spent,
    );
    assert_eq!(e["error_code"], "WEBSOCKET_TIMEOUT");
    assert_eq!(e["details"]["phase"], "invocation_deadline");
}

#[test]
fn malformed_events() {
    // Home Assistant operations need a configuration to get as far as their parameters.
    let f = function().with_home_assistant(HaConfig::new("http://127.0.0.1:1", TOKEN).unwrap());
    let e = f.handle_text("{\"operation\": ", &inv());
    assert_eq!(e["error_code"], "INVALID_PARAMETER");
    assert_eq!(e["details"]["parameter"], "event");
    for (event, parameter) in [
        (json!([1]), "event"),
        (json!({}), "operation"),
        (json!({"operation": 3}), "operation"),
        (json!({"operation": "request", "timeout": "x"}), "timeout"),
        (json!({"operation": "request", "timeout": 1000}), "timeout"),
        (json!({"operation": "ha_get_state"}), "entity_id"),
        (
            json!({"operation": "ha_registry", "registry": "garage"}),
            "registry",
        ),
        (
            json!({"operation": "ha_command", "command": "get_states"}),
            "command",
        ),
        (
            json!({"operation": "ha_call_service", "domain": "light"}),
            "service",
        ),
        (
            json!({"operation": "reset", "correlation_id": ["x"]}),
            "correlation_id",
        ),
    ] {
        let e = f.handle(event.clone(), &inv());
        assert_eq!(e["error_code"], "INVALID_PARAMETER", "{event}: {e}");
        assert_eq!(e["details"]["parameter"], parameter, "{event}: {e}");
    }
    let e = f.handle(json!({"operation": "dance"}), &inv());
    assert_eq!(e["error_code"], "UNKNOWN_OPERATION");
    assert!(e["error"].as_str().unwrap().contains("ha_get_states"));
}
