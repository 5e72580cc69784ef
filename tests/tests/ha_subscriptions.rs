//! Home Assistant sessions that survive restarts: keepalive after a pause (a black hole and
//! a server that stops answering found dead and replaced within the call), reconnect with
//! backoff bounded by the call, subscriptions made again under the ids the caller holds with
//! the gap reported first, a command that may act never sent twice, and
//! `subscribe_entities`' compressed messages folded into the states `get_states` answers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use home_assistant::{EntityState, HaClient, HaConfig, HomeAssistant, ServiceCall};
use peers::{HaStandIn, Quirks};
use serde_json::json;
use websocket::{ConnectionConfig, ManagerConfig, WebSocketCore};

const T: Duration = Duration::from_secs(5);
const TOKEN: &str = "llat-SUBSCRIPTIONS-SECRET-42";

/// An instance of its own whose sessions count as paused after `interval`, pings bounded
/// by `ping_timeout`.
fn instance(interval: Duration, ping_timeout: Duration) -> Arc<HomeAssistant> {
    let connections = ConnectionConfig::default()
        .ping_interval(Some(interval))
        .ping_timeout(ping_timeout);
    Arc::new(HomeAssistant::on(
        WebSocketCore::new(ManagerConfig::default().without_rate_limit())
            .with_connections(connections),
    ))
}

fn client(hub: &Arc<HomeAssistant>, ha: &HaStandIn) -> HaClient {
    let config = HaConfig::new(&ha.base_url(), TOKEN).unwrap();
    HaClient::on(
        Arc::clone(hub),
        config,
        debug::CorrelationId::parse("subscriptions").unwrap(),
    )
}

fn count(log: &[String], kind: &str) -> usize {
    log.iter().filter(|k| *k == kind).count()
}

fn sorted(mut states: Vec<EntityState>) -> Vec<EntityState> {
    states.sort_by(|a, b| a.entity_id.cmp(&b.entity_id));
    states
}

#[test]
fn a_restart_mid_subscription_reports_the_gap_then_events_again() {
    let ha = HaStandIn::start(TOKEN).unwrap();
    let hub = instance(Duration::from_secs(20), Duration::from_secs(20));
    let c = client(&hub, &ha);
    let sub = c.subscribe_events(Some("state_changed"), T).unwrap();
    let kitchen =
        ServiceCall::new("light", "turn_on").target(json!({"entity_id": "light.kitchen"}));
    c.call_service(&kitchen, T).unwrap();
    let read = c.next_events(sub, 10, T).unwrap();
    assert!(read.gap.is_none());
    assert_eq!(read.events.len(), 1);

    ha.restart();
    // While the client is away: a change it cannot see.
    std::thread::sleep(Duration::from_millis(50));
    ha.set_state(
        "switch.coffee_maker",
        "on",
        json!({"friendly_name": "Coffee Maker"}),
    );

    // The next read finds the session gone, opens a new one, makes the subscription again
    // (same id for the caller) and says events may have been missed.
    let read = c.next_events(sub, 10, T).unwrap();
    assert_eq!(read.subscription, sub);
    let gap = read.gap.expect("a gap after the restart");
    assert!(gap.reconnected);
    assert!(read.events.is_empty(), "{:?}", read.events);

    // Events again, on the new session.
    ha.set_state(
        "sensor.outdoor_temperature",
        "8.0",
        json!({"unit_of_measurement": "°C"}),
    );
    let read = c.next_events(sub, 10, T).unwrap();
    assert!(read.gap.is_none());
    assert_eq!(read.events.len(), 1);
    let event = read.events[0].to_value();
    assert_eq!(event["data"]["entity_id"], "sensor.outdoor_temperature");

    let log = ha.command_log();
    assert_eq!(count(&log, "call_service"), 1, "{log:?}");
    assert_eq!(
        count(&log, "subscribe_events"),
        2,
        "once per session: {log:?}"
    );
    assert_eq!(ha.auths(), 2);
    let stats = hub.stats();
    assert_eq!(stats.reconnects, 1);
    assert_eq!(stats.resubscribed, 1);
    c.unsubscribe(sub, T).unwrap();
}

#[test]
fn a_trigger_subscription_fires_again_after_a_restart() {
    // The reference JavaScript client's open bug: subscribe_trigger stays dead after a
    // restart of Home Assistant.
    let ha = HaStandIn::start(TOKEN).unwrap();
    let hub = instance(Duration::from_secs(20), Duration::from_secs(20));
    let c = client(&hub, &ha);
    let trigger = json!({"platform": "state", "entity_id": "light.kitchen", "to": "on"});
    let sub = c.subscribe_trigger(trigger, None, T).unwrap();
    ha.set_state("light.kitchen", "on", json!({}));
    let fired = c.next_events(sub, 1, T).unwrap();
    assert_eq!(fired.events.len(), 1);
    assert_eq!(
        fired.events[0].to_value()["variables"]["trigger"]["to_state"]["state"],
        "on"
    );
    ha.set_state("light.kitchen", "off", json!({}));
    ha.restart();
    let read = c.next_events(sub, 1, T).unwrap();
    assert!(read.gap.is_some_and(|g| g.reconnected));
    ha.set_state("light.kitchen", "on", json!({}));
    let fired = c.next_events(sub, 1, T).unwrap();
    assert_eq!(fired.events.len(), 1, "the trigger fires after the restart");
    assert_eq!(count(&ha.command_log(), "subscribe_trigger"), 2);
    // A trigger Home Assistant refuses is its word, on subscribing.
    let err = c
        .subscribe_trigger(json!({"platform": "sun"}), None, T)
        .unwrap_err();
    assert_eq!(err.code(), home_assistant::codes::HA_COMMAND_FAILED);
}

#[test]
fn a_black_hole_after_a_pause_is_replaced_within_the_call() {
    let ha = HaStandIn::start(TOKEN).unwrap();
    // Default ping timeout (20 s): the call's own time bounds the check.
    let hub = instance(Duration::from_millis(200), Duration::from_secs(20));
    let c = client(&hub, &ha);
    c.get_states(T).unwrap();
    ha.black_hole();
    std::thread::sleep(Duration::from_millis(300));
    let timeout = Duration::from_secs(4);
    let start = Instant::now();
    let config = client(&hub, &ha).get_config(timeout).unwrap().to_value();
    let elapsed = start.elapsed();
    assert_eq!(config["location_name"], "Stand-in Home");
    // The check waited half the call's time, then a new session answered.
    assert!(elapsed >= timeout / 2, "{elapsed:?}");
    assert!(elapsed < timeout, "{elapsed:?}");
    let stats = hub.stats();
    assert_eq!(
        (stats.liveness_checks, stats.dead_sessions, stats.reconnects),
        (1, 1, 1)
    );
    assert_eq!(ha.connections(), 2);
}

#[test]
fn a_server_that_stops_answering_pings_is_found_dead_within_the_ping_timeout() {
    let ha = HaStandIn::start(TOKEN).unwrap();
    let ping_timeout = Duration::from_millis(500);
    let hub = instance(Duration::from_millis(100), ping_timeout);
    let c = client(&hub, &ha);
    c.get_states(T).unwrap();
    ha.black_hole();
    std::thread::sleep(Duration::from_millis(200));
    let start = Instant::now();
    let checked = client(&hub, &ha);
    checked.get_config(Duration::from_secs(10)).unwrap();
    let elapsed = start.elapsed();
    assert!(elapsed >= ping_timeout, "{elapsed:?}");
    assert!(
        elapsed < ping_timeout.mul_f64(1.1) + Duration::from_millis(500),
        "found dead at the ping timeout, then one reconnect: {elapsed:?}"
    );
    assert_eq!(hub.stats().dead_sessions, 1);
    // The new session's own check measured its latency.
    std::thread::sleep(Duration::from_millis(200));
    let again = client(&hub, &ha);
    again.get_config(T).unwrap();
    assert!(again.session_info().unwrap().latency_ms.is_some());
    assert!(hub.stats().last_latency_us.is_some());
    let status = again.session_status(T).unwrap();
    assert_eq!(status.state, "open");
    assert!(status.latency_ms.is_some());
}

#[test]
fn a_call_service_cut_mid_flight_is_unknown_and_never_sent_again() {
    let ha = HaStandIn::start(TOKEN).unwrap();
    let hub = instance(Duration::from_secs(20), Duration::from_secs(20));
    let c = client(&hub, &ha);
    c.get_states(T).unwrap();
    ha.set_quirks(Quirks {
        drop_on: Some("call_service".into()),
        ..Quirks::default()
    });
    let call = ServiceCall::new("light", "turn_on").target(json!({"entity_id": "light.kitchen"}));
    let err = c.call_service(&call, T).unwrap_err();
    let failure = gateway::Failure::from(&err);
    assert_eq!(failure.details["outcome"], "unknown", "{failure:?}");
    assert_eq!(failure.details["command_type"], "call_service");
    assert!(
        failure.message.contains("not sent again"),
        "{}",
        failure.message
    );
    ha.set_quirks(Quirks::default());
    // A read after it reconnects; the command was received once and never again.
    c.get_states(T).unwrap();
    assert_eq!(count(&ha.command_log(), "call_service"), 1);
    // A read cut the same way runs again on a new session.
    ha.set_quirks(Quirks {
        drop_on: Some("get_config".into()),
        ..Quirks::default()
    });
    let err = c.get_config(T).unwrap_err();
    assert_eq!(
        err.code(),
        gateway::codes::WEBSOCKET_CONNECTION_CLOSED,
        "{err:?}"
    );
    ha.set_quirks(Quirks::default());
    let before = ha.connections();
    ha.restart();
    c.get_config(T).unwrap();
    assert_eq!(ha.connections(), before + 1);
}

#[test]
fn reconnecting_is_bounded_by_the_call() {
    let ha = HaStandIn::start(TOKEN).unwrap();
    let hub = instance(Duration::from_secs(20), Duration::from_secs(20));
    let c = client(&hub, &ha);
    let sub = c.subscribe_events(None, T).unwrap();
    ha.restart();
    drop(ha);
    std::thread::sleep(Duration::from_millis(100));
    // Nobody listens any more: attempts at once and after ~1 s (backoff 1 s, jitter 10 %);
    // the next wait (~2 s) would end past the call, so the call answers then.
    let timeout = Duration::from_millis(2500);
    let start = Instant::now();
    let err = c.next_events(sub, 1, timeout).unwrap_err();
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_millis(850), "{elapsed:?}");
    assert!(elapsed <= timeout.mul_f64(1.1), "{elapsed:?}");
    assert_eq!(
        err.code(),
        gateway::codes::WEBSOCKET_CONNECT_FAILED,
        "{err:?}"
    );
    // The subscription is still held, to be made again when Home Assistant is back.
    assert_eq!(c.session_status(T).unwrap().subscriptions, 1);
}

#[test]
fn folded_entity_states_equal_get_states() {
    let ha = HaStandIn::start(TOKEN).unwrap();
    let hub = instance(Duration::from_secs(20), Duration::from_secs(20));
    let c = client(&hub, &ha);
    let sub = c.subscribe_entities(None, T).unwrap();
    let first = c.next_events(sub, 100, T).unwrap();
    assert_eq!(first.events.len(), 3, "the snapshot: one change per entity");
    // Adds, changes (state, attributes only, context), removes.
    ha.set_state(
        "light.kitchen",
        "on",
        json!({"friendly_name": "Kitchen Light", "brightness": 200}),
    );
    ha.set_state(
        "light.kitchen",
        "on",
        json!({"friendly_name": "Kitchen", "color": [1, 2, 3]}),
    );
    ha.set_state("sensor.new_one", "42", json!({"unit_of_measurement": "W"}));
    ha.remove_entity("switch.coffee_maker");
    let call = ServiceCall::new("light", "turn_off").target(json!({"entity_id": "light.kitchen"}));
    c.call_service(&call, T).unwrap();
    let folded = sorted(c.entity_states(sub, T).unwrap());
    let plain = sorted(c.get_states(T).unwrap().states().unwrap());
    assert_eq!(folded, plain);
    assert_eq!(folded.len(), 3);
    assert!(folded
        .iter()
        .any(|s| s.context.user_id.as_deref() == Some("standin-user")));

    // After a restart the fold starts again from the fresh snapshot (a removal it missed
    // is not kept).
    ha.restart();
    ha.remove_entity("sensor.new_one");
    let read = c.next_events(sub, 100, T).unwrap();
    assert!(read.gap.is_some_and(|g| g.reconnected));
    let folded = sorted(c.entity_states(sub, T).unwrap());
    let plain = sorted(c.get_states(T).unwrap().states().unwrap());
    assert_eq!(folded, plain);
    assert_eq!(folded.len(), 2);
}

#[test]
fn coalesced_frames_are_read_and_refusal_means_none() {
    let ha = HaStandIn::start(TOKEN).unwrap();
    let hub = instance(Duration::from_secs(20), Duration::from_secs(20));
    let c = client(&hub, &ha);
    let sub = c.subscribe_events(Some("state_changed"), T).unwrap();
    // The event and the result come in one JSON array frame.
    let call = ServiceCall::new("light", "turn_on").target(json!({"entity_id": "light.kitchen"}));
    c.call_service(&call, T).unwrap();
    assert_eq!(c.next_events(sub, 10, T).unwrap().events.len(), 1);
    assert_eq!(c.session_status(T).unwrap().coalescing, Some(true));

    let older = HaStandIn::start(TOKEN).unwrap();
    older.set_quirks(Quirks {
        refuse_features: true,
        ..Quirks::default()
    });
    let c = client(&hub, &older);
    let sub = c.subscribe_events(Some("state_changed"), T).unwrap();
    c.call_service(&call, T).unwrap();
    assert_eq!(c.next_events(sub, 10, T).unwrap().events.len(), 1);
    assert_eq!(c.session_status(T).unwrap().coalescing, Some(false));
}

#[test]
fn a_token_reflected_into_events_never_reaches_a_read() {
    let ha = HaStandIn::start(TOKEN).unwrap();
    ha.set_quirks(Quirks {
        reflect_token_everywhere: true,
        ..Quirks::default()
    });
    let hub = instance(Duration::from_secs(20), Duration::from_secs(20));
    let c = client(&hub, &ha);
    let events = c.subscribe_events(Some("state_changed"), T).unwrap();
    let entities = c.subscribe_entities(None, T).unwrap();
    let call = ServiceCall::new("light", "turn_on").target(json!({"entity_id": "light.kitchen"}));
    let _ = c.call_service(&call, T);
    let mut shown = String::new();
    for sub in [events, entities] {
        let read = c.next_events(sub, 100, T).unwrap();
        assert!(!read.events.is_empty());
        for event in &read.events {
            shown.push_str(event.as_str());
        }
    }
    shown.push_str(&format!("{:?}", c.entity_states(entities, T).unwrap()));
    assert!(shown.contains("echo"), "the stand-in reflected: {shown}");
    assert!(!shown.contains(TOKEN), "{shown}");
}
