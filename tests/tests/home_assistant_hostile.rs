//! The defects a hostile Home Assistant and a tight deadline found, one test each: answers
//! before the deadline when authentication or a warm session stalls, events that do not
//! count as operations, tokens a server reflects, a session a JSON caller cannot wedge or
//! starve, an error that is not a pong, an unsubscribe that is never answered.

use std::time::{Duration, Instant};

use gateway::ManagerConfig;
use home_assistant::HaConfig;
use lambda::{Function, Invocation};
use peers::{HaStandIn, Quirks};
use serde_json::{json, Value};
use tests::{own_gateway, servers};

const TOKEN: &str = "llat-HOSTILE-SECRET-0123456789abcdef";

fn stand_in() -> (HaStandIn, Function) {
    let ha = HaStandIn::start(TOKEN).unwrap();
    let config = HaConfig::new(&ha.base_url(), TOKEN).unwrap();
    let function = Function::new(own_gateway(ManagerConfig::default())).with_home_assistant(config);
    (ha, function)
}

fn roomy() -> Invocation {
    Invocation::with_budget("hostile-ha", Duration::from_secs(10))
}

fn ok(envelope: &Value) -> &Value {
    assert_eq!(envelope["success"], true, "{envelope}");
    &envelope["data"]
}

/// Runs `event` with `budget` of invocation time and checks the answer came before the
/// deadline.
fn before_deadline(function: &Function, event: Value, budget: Duration) -> Value {
    let start = Instant::now();
    let envelope = function.handle(event, &Invocation::with_budget("tight", budget));
    let elapsed = start.elapsed();
    assert!(
        elapsed < budget,
        "answered {elapsed:?} after the start, the deadline was {budget:?}: {envelope}"
    );
    envelope
}

#[test]
fn stalled_authentication_answers_before_the_deadline() {
    let (ha, function) = stand_in();
    ha.set_quirks(Quirks {
        stall_auth: true,
        ..Quirks::default()
    });
    let budget = Duration::from_millis(1500);
    let e = before_deadline(
        &function,
        json!({"operation": "ha_get_states", "timeout": 30}),
        budget,
    );
    assert_eq!(e["error_code"], "WEBSOCKET_TIMEOUT", "{e}");
    assert_eq!(e["details"]["cut_by_deadline"], true, "{e}");
}

#[test]
fn a_warm_session_that_stalls_answers_before_the_deadline() {
    let (ha, function) = stand_in();
    ok(&function.handle(json!({"operation": "ha_get_states"}), &roomy()));
    ha.set_stalled(true);
    let e = before_deadline(
        &function,
        json!({"operation": "ha_get_config", "timeout": 30}),
        Duration::from_millis(1500),
    );
    assert_eq!(e["error_code"], "WEBSOCKET_TIMEOUT", "{e}");
}

#[test]
fn reset_answers_before_the_deadline() {
    let function = Function::new(own_gateway(ManagerConfig::default()));
    let mute = servers::mute_after_upgrade();
    for _ in 0..3 {
        ok(&function.handle(json!({"operation": "connect", "url": mute.url()}), &roomy()));
    }
    // 900 ms of invocation, 400 ms after the safety margin: the closing handshakes with a
    // server that never answers them must not take the full 1 s close timeout.
    let e = before_deadline(
        &function,
        json!({"operation": "reset"}),
        Duration::from_millis(900),
    );
    assert_eq!(e["success"], true, "{e}");
    assert!(function.gateway().core().open_connections().is_empty());
}

#[test]
fn events_before_a_result_are_not_rate_limited_and_the_subscription_survives() {
    let (ha, function) = stand_in();
    let sub = function.handle(
        json!({"operation": "ha_command", "command": {"type": "subscribe_events", "event_type": "flood"}}),
        &roomy(),
    );
    ok(&sub);
    ha.set_quirks(Quirks {
        events_before_result: 400,
        ..Quirks::default()
    });
    let states = function.handle(json!({"operation": "ha_get_states"}), &roomy());
    assert_eq!(ok(&states)["result"].as_array().map(Vec::len), Some(3));
    // The warm session, with its subscription, goes on.
    ha.set_quirks(Quirks::default());
    let config = function.handle(json!({"operation": "ha_get_config"}), &roomy());
    assert_eq!(ok(&config)["session"]["reused"], true, "{config}");
    assert_eq!(ha.auths(), 1);
}

#[test]
fn a_reflected_token_never_reaches_the_envelope() {
    for quirks in [
        Quirks {
            reflect_token: true,
            ..Quirks::default()
        },
        Quirks {
            non_json_auth_reply: true,
            ..Quirks::default()
        },
    ] {
        let ha = HaStandIn::start("the-right-token").unwrap();
        ha.set_quirks(quirks.clone());
        let config = HaConfig::new(&ha.base_url(), TOKEN).unwrap();
        let function =
            Function::new(own_gateway(ManagerConfig::default())).with_home_assistant(config);
        let e = function.handle(json!({"operation": "ha_get_states"}), &roomy());
        assert_eq!(e["success"], false, "{quirks:?}: {e}");
        assert!(!e.to_string().contains(TOKEN), "{quirks:?}: {e}");
    }
}

#[test]
fn a_json_caller_cannot_wedge_the_session_by_its_name() {
    let (ha, function) = stand_in();
    let first = function.handle(json!({"operation": "ha_get_states"}), &roomy());
    let name = ok(&first)["session"]["connection"]
        .as_str()
        .unwrap()
        .to_owned();
    let sent = function.handle(
        json!({"operation": "send", "connection": name, "message": {"id": 1_000_000, "type": "ping"}}),
        &roomy(),
    );
    assert_eq!(sent["error_code"], "WEBSOCKET_NO_CONNECTION", "{sent}");
    let after = function.handle(json!({"operation": "ha_get_config"}), &roomy());
    assert_eq!(ok(&after)["session"]["reused"], true);
    assert_eq!(ha.auths(), 1);
}

#[test]
fn sixty_four_generic_connections_do_not_starve_home_assistant() {
    let (_ha, function) = stand_in();
    let echo = servers::echo();
    for i in 0..64 {
        let c = function.handle(json!({"operation": "connect", "url": echo.url()}), &roomy());
        assert_eq!(c["success"], true, "connection {i}: {c}");
    }
    let full = function.handle(json!({"operation": "connect", "url": echo.url()}), &roomy());
    assert_eq!(full["error_code"], "REGISTRY_FULL");
    ok(&function.handle(json!({"operation": "ha_get_states"}), &roomy()));
}

#[test]
fn an_error_answer_to_ping_is_not_alive() {
    let (ha, function) = stand_in();
    // Its own instance, whose sessions pause after 100 ms.
    let pausing =
        websocket::ConnectionConfig::default().ping_interval(Some(Duration::from_millis(100)));
    let hub = std::sync::Arc::new(home_assistant::HomeAssistant::on(
        websocket::WebSocketCore::new(ManagerConfig::default()).with_connections(pausing),
    ));
    let function = function.with_home_assistant_instance(hub);
    ok(&function.handle(json!({"operation": "ha_get_states"}), &roomy()));
    ha.set_quirks(Quirks {
        ping_error: true,
        ..Quirks::default()
    });
    std::thread::sleep(Duration::from_millis(150));
    // The liveness check after the pause gets an error: the session is replaced.
    let config = function.handle(json!({"operation": "ha_get_config"}), &roomy());
    assert_eq!(ok(&config)["session"]["reused"], false, "{config}");
    assert_eq!(ha.auths(), 2);
    // ha_ping reports it as the failure it is.
    let ping = function.handle(json!({"operation": "ha_ping"}), &roomy());
    assert_eq!(ping["error_code"], "HA_COMMAND_FAILED", "{ping}");
}

#[test]
fn render_template_does_not_wait_for_an_unanswered_unsubscribe() {
    let (ha, function) = stand_in();
    ha.set_quirks(Quirks {
        ignore_unsubscribe: true,
        ..Quirks::default()
    });
    let start = Instant::now();
    let text = function.handle(
        json!({"operation": "ha_render_template", "template": "{{ states('switch.coffee_maker') }}", "timeout": 5}),
        &roomy(),
    );
    assert_eq!(ok(&text)["result"], "off");
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    // The late answer, if it ever came, would be discarded; the session goes on.
    ok(&function.handle(json!({"operation": "ha_get_config"}), &roomy()));
}

#[test]
fn correlation_ids_count_characters_and_refuse_separators() {
    let function = Function::new(own_gateway(ManagerConfig::default()));
    let wide = "é".repeat(128);
    let e = function.handle(
        json!({"operation": "get_stats", "correlation_id": wide}),
        &roomy(),
    );
    assert_eq!(e["success"], true, "{e}");
    for bad in ["a\u{2028}b", "a\u{202e}b", &"é".repeat(129)] {
        let e = function.handle(
            json!({"operation": "get_stats", "correlation_id": bad}),
            &roomy(),
        );
        assert_eq!(e["error_code"], "INVALID_PARAMETER", "{bad:?}: {e}");
    }
}

#[test]
fn a_websocket_url_ending_in_the_api_path_is_used_as_given() {
    let config = HaConfig::new("http://h:8123/api/websocket", TOKEN).unwrap();
    assert_eq!(config.ws_url(), "ws://h:8123/api/websocket");
    let ha = HaStandIn::start(TOKEN).unwrap();
    let config = HaConfig::new(&format!("{}/api/websocket", ha.base_url()), TOKEN).unwrap();
    let function = Function::new(own_gateway(ManagerConfig::default())).with_home_assistant(config);
    ok(&function.handle(json!({"operation": "ha_get_config"}), &roomy()));
}
