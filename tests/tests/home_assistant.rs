//! The Home Assistant client against the stand-in speaking the real protocol.

use std::time::{Duration, Instant};

use home_assistant::{HaClient, HaConfig, Registry, ServiceCall};
use peers::HaStandIn;
use serde_json::json;

const T: Duration = Duration::from_secs(5);
const TOKEN: &str = "llat-STANDIN-SECRET-0123456789";

fn stand_in() -> HaStandIn {
    HaStandIn::start(TOKEN).unwrap()
}

fn client(ha: &HaStandIn) -> HaClient {
    HaClient::new(HaConfig::new(&ha.base_url(), TOKEN).unwrap(), None).unwrap()
}

#[test]
fn authenticates_and_reads_states() {
    let ha = stand_in();
    let c = client(&ha);
    let states = c.get_states(T).unwrap().to_value();
    assert_eq!(states.as_array().unwrap().len(), 3);
    let info = c.session_info().unwrap();
    assert_eq!(info.ha_version, peers::STAND_IN_VERSION);
    assert!(!info.reused);
    assert_eq!(ha.auths(), 1);
}

#[test]
fn wrong_token_is_auth_failed_and_never_shown() {
    let ha = stand_in();
    let secret = "WRONG-TOKEN-must-not-leak";
    let c = HaClient::new(HaConfig::new(&ha.url(), secret).unwrap(), None).unwrap();
    let err = c.get_states(T).unwrap_err();
    assert_eq!(err.code(), home_assistant::codes::HA_AUTH_FAILED);
    let shown = format!(
        "{err} {err:?} {}",
        gateway::error_envelope(&gateway::Failure::from(&err))
    );
    assert!(!shown.contains(secret), "{shown}");
    assert_eq!(ha.auths(), 0);
}

#[test]
fn warm_session_is_reused_by_the_next_client() {
    let ha = stand_in();
    client(&ha).get_states(T).unwrap().to_value();
    let second = client(&ha);
    second.get_config(T).unwrap().to_value();
    assert!(second.session_info().unwrap().reused);
    assert_eq!(ha.connections(), 1);
    assert_eq!(ha.auths(), 1);
    // No pause, no liveness check: the warm session is used at once. The first command is
    // the request for coalesced messages.
    assert_eq!(
        ha.command_log(),
        ["supported_features", "get_states", "get_config"]
    );
}

#[test]
fn restart_between_calls_reconnects_transparently() {
    let ha = stand_in();
    client(&ha).get_states(T).unwrap().to_value();
    ha.restart();
    let second = client(&ha);
    let config = second.get_config(T).unwrap().to_value();
    assert_eq!(config["location_name"], "Stand-in Home");
    assert!(!second.session_info().unwrap().reused);
    assert_eq!(ha.connections(), 2);
    assert_eq!(ha.auths(), 2);
}

#[test]
fn events_arriving_before_the_result_are_kept() {
    let ha = stand_in();
    let c = client(&ha);
    let sub = c.subscribe_events(Some("state_changed"), T).unwrap();
    let call = ServiceCall::new("light", "turn_on").target(json!({"entity_id": "light.kitchen"}));
    let result = c.call_service(&call, T).unwrap().to_value();
    assert!(result["context"]["id"].is_string());
    // The event came before the result; it waited in the backlog.
    assert_eq!(c.pending_messages(T).unwrap(), 1);
    let read = c.next_events(sub, 10, T).unwrap();
    assert!(read.gap.is_none());
    assert_eq!(read.events.len(), 1);
    let event = read.events[0].to_value();
    assert_eq!(event["event_type"], "state_changed");
    assert_eq!(event["data"]["new_state"]["state"], "on");
    assert_eq!(
        c.get_state("light.kitchen", T).unwrap().to_value()["state"],
        "on"
    );
    // Nothing more in time is an empty read, not an error.
    let start = Instant::now();
    let read = c.next_events(sub, 10, Duration::from_millis(200)).unwrap();
    assert!(read.events.is_empty());
    assert!(start.elapsed() >= Duration::from_millis(190));
    c.unsubscribe(sub, T).unwrap();
    // An ended subscription is unknown.
    let err = c
        .next_events(sub, 1, Duration::from_millis(200))
        .unwrap_err();
    assert_eq!(err.code(), home_assistant::codes::HA_NO_SUBSCRIPTION);
}

#[test]
fn service_response_is_returned_when_asked() {
    let ha = stand_in();
    let c = client(&ha);
    let call = ServiceCall::new("switch", "turn_on")
        .service_data(json!({"entity_id": "switch.coffee_maker"}))
        .return_response(true);
    let result = c.call_service(&call, T).unwrap().to_value();
    assert_eq!(result["response"]["state"], "on");
}

#[test]
fn home_assistant_errors_are_command_failed_with_its_code() {
    let ha = stand_in();
    let c = client(&ha);
    let err = c
        .call_service(&ServiceCall::new("light", "explode"), T)
        .unwrap_err();
    assert_eq!(err.code(), home_assistant::codes::HA_COMMAND_FAILED);
    assert_eq!(
        gateway::Failure::from(&err).details["ha_error_code"],
        "not_found"
    );
    assert_eq!(
        gateway::Failure::from(&err).details["command_type"],
        "call_service"
    );
    let err = c.get_state("light.nowhere", T).unwrap_err();
    assert_eq!(err.code(), home_assistant::codes::HA_COMMAND_FAILED);
    let err = c
        .command(json!({"type": "no_such_command"}), T)
        .unwrap_err();
    assert_eq!(
        gateway::Failure::from(&err).details["ha_error_code"],
        "unknown_command"
    );
    // The session survives command errors.
    c.get_states(T).unwrap().to_value();
    assert_eq!(ha.connections(), 1);
}

#[test]
fn registries_services_and_templates() {
    let ha = stand_in();
    let c = client(&ha);
    assert_eq!(
        c.registry(Registry::Entity, T).unwrap().to_value()[0]["entity_id"],
        "light.kitchen"
    );
    assert_eq!(
        c.registry(Registry::Area, T).unwrap().to_value()[0]["area_id"],
        "kitchen"
    );
    assert_eq!(
        c.registry(Registry::Device, T).unwrap().to_value()[1]["id"],
        "dev2"
    );
    assert!(c.get_services(T).unwrap().to_value()["light"]["turn_on"].is_object());
    let text = c
        .render_template("Outside: {{ states('sensor.outdoor_temperature') }} °C", T)
        .unwrap()
        .to_value();
    assert_eq!(text, "Outside: 7.5 °C");
    assert!(c.ping(T).unwrap() < T);
    let log = ha.command_log();
    assert!(
        log.ends_with(&[
            "render_template".into(),
            "unsubscribe_events".into(),
            "ping".into()
        ]),
        "{log:?}"
    );
}

#[test]
fn unanswered_command_times_out_and_is_not_resent() {
    let ha = stand_in();
    let c = client(&ha);
    c.get_states(T).unwrap().to_value();
    ha.set_stalled(true);
    let timeout = Duration::from_millis(600);
    let start = Instant::now();
    let call = ServiceCall::new("light", "turn_off").target(json!({"entity_id": "light.kitchen"}));
    let err = c.call_service(&call, timeout).unwrap_err();
    let elapsed = start.elapsed();
    assert_eq!(err.code(), gateway::codes::WEBSOCKET_TIMEOUT, "{err:?}");
    assert_eq!(gateway::Failure::from(&err).details["phase"], "receive");
    assert!(
        elapsed >= timeout.mul_f64(0.95) && elapsed <= timeout.mul_f64(1.1),
        "{elapsed:?}"
    );
    ha.set_stalled(false);
    // The session goes on; the late command was sent exactly once.
    c.get_config(T).unwrap().to_value();
    assert_eq!(
        ha.command_log()
            .iter()
            .filter(|t| *t == "call_service")
            .count(),
        1
    );
    assert_eq!(ha.connections(), 1);
}

#[test]
fn client_assigns_ids_and_refuses_callers_ids() {
    let ha = stand_in();
    let c = client(&ha);
    let err = c
        .command(json!({"type": "get_states", "id": 1}), T)
        .unwrap_err();
    assert_eq!(err.code(), gateway::codes::INVALID_PARAMETER);
    let err = c.command(json!({"no_type": true}), T).unwrap_err();
    assert_eq!(err.code(), gateway::codes::INVALID_PARAMETER);
    let err = c.get_state("not an entity", T).unwrap_err();
    assert_eq!(err.code(), gateway::codes::INVALID_PARAMETER);
    for _ in 0..5 {
        c.get_config(T).unwrap().to_value();
    }
}

#[test]
fn stand_in_rejects_ids_that_do_not_increase() {
    let ha = stand_in();
    let conn = gateway::websocket_connect(&ha.url(), &gateway::Call::new().timeout(T)).unwrap();
    let h = conn.connection.as_str();
    assert_eq!(
        gateway::websocket_receive(h, &gateway::Call::new().timeout(T))
            .unwrap()
            .message()
            .unwrap()["type"],
        "auth_required"
    );
    gateway::websocket_send(
        h,
        &json!({"type": "auth", "access_token": TOKEN}),
        &gateway::Call::new(),
    )
    .unwrap();
    assert_eq!(
        gateway::websocket_receive(h, &gateway::Call::new().timeout(T))
            .unwrap()
            .message()
            .unwrap()["type"],
        "auth_ok"
    );
    gateway::websocket_send(h, &json!({"id": 5, "type": "ping"}), &gateway::Call::new()).unwrap();
    assert_eq!(
        gateway::websocket_receive(h, &gateway::Call::new().timeout(T))
            .unwrap()
            .message()
            .unwrap()["type"],
        "pong"
    );
    gateway::websocket_send(h, &json!({"id": 5, "type": "ping"}), &gateway::Call::new()).unwrap();
    let reply = gateway::websocket_receive(h, &gateway::Call::new().timeout(T))
        .unwrap()
        .content
        .to_value()
        .unwrap();
    assert_eq!(reply["success"], false);
    assert_eq!(reply["error"]["code"], "id_reuse");
    gateway::websocket_close(h, &gateway::Call::new()).unwrap();
}

#[test]
fn stand_in_closes_after_auth_invalid() {
    let ha = stand_in();
    let conn = gateway::websocket_connect(&ha.url(), &gateway::Call::new().timeout(T)).unwrap();
    let h = conn.connection.as_str();
    gateway::websocket_receive(h, &gateway::Call::new().timeout(T)).unwrap();
    gateway::websocket_send(
        h,
        &json!({"type": "auth", "access_token": "nope"}),
        &gateway::Call::new(),
    )
    .unwrap();
    assert_eq!(
        gateway::websocket_receive(h, &gateway::Call::new().timeout(T))
            .unwrap()
            .message()
            .unwrap()["type"],
        "auth_invalid"
    );
    let err = gateway::websocket_receive(h, &gateway::Call::new().timeout(T)).unwrap_err();
    assert_eq!(
        gateway::error_code(&err),
        gateway::codes::WEBSOCKET_CONNECTION_CLOSED
    );
}

#[test]
fn over_wss_with_a_ca_of_its_own() {
    let pki = tests::pki::TestPki::generate();
    home_assistant::add_root_certificate(pki.ca_pem.as_bytes()).unwrap();
    let ha = HaStandIn::start_tls(TOKEN, pki.acceptor()).unwrap();
    assert!(ha.url().starts_with("wss://"));
    let c = HaClient::new(HaConfig::new(&ha.base_url(), TOKEN).unwrap(), None).unwrap();
    assert_eq!(
        c.get_config(T).unwrap().to_value()["location_name"],
        "Stand-in Home"
    );
}
