//! Owned Home Assistant instances: each keeps its own warm sessions, command limit and
//! counters; the per-process one is untouched by them.

use std::sync::Arc;
use std::time::Duration;

use debug::CorrelationId;
use home_assistant::{HaClient, HaConfig, HomeAssistant};
use peers::HaStandIn;

const T: Duration = Duration::from_secs(5);

fn client(hub: &Arc<HomeAssistant>, config: &HaConfig) -> HaClient {
    HaClient::on(Arc::clone(hub), config.clone(), CorrelationId::generate())
}

#[test]
fn instances_keep_their_sessions_limits_and_counters_apart() {
    let ha = HaStandIn::start("instance-token").unwrap();
    let config = HaConfig::new(&ha.base_url(), "instance-token").unwrap();
    let one = Arc::new(HomeAssistant::new());
    let two = Arc::new(HomeAssistant::new());
    let global_before = home_assistant::stats();

    let first = client(&one, &config);
    first.get_config(T).unwrap();
    // The round trip of supported_features, asked for right after auth.
    let latency = first.session_info().unwrap().latency_ms.unwrap();
    assert!(latency > 0.0 && latency < 2000.0, "{latency}");
    let second = client(&one, &config);
    second.get_config(T).unwrap();
    let latency = second.session_info().unwrap().latency_ms.unwrap();
    assert!(latency > 0.0 && latency < 2000.0, "{latency}");
    assert_eq!(
        one.stats().auth_count,
        1,
        "the second client reused the warm session"
    );
    assert_eq!(one.stats().reused_count, 1);
    assert_eq!(two.stats().auth_count, 0);

    // Its own session: the other instance authenticates for itself.
    let answer = client(&two, &config);
    answer.get_config(T).unwrap();
    assert_eq!(two.stats().auth_count, 1);
    assert!(!answer.session_info().unwrap().reused);
    assert_eq!(ha.auths(), 2);

    // Its own command limit.
    two.set_command_rate_limit(1, Duration::from_secs(60));
    client(&two, &config).get_config(T).unwrap();
    let limited = client(&two, &config).get_config(T).unwrap_err();
    assert_eq!(limited.code(), gateway::codes::RATE_LIMIT_EXCEEDED);
    client(&one, &config).get_config(T).unwrap();

    one.close_all_sessions(Duration::from_millis(200));
    client(&one, &config).get_config(T).unwrap();
    assert_eq!(one.stats().auth_count, 2);
    let global_after = home_assistant::stats();
    assert_eq!(global_before.auth_count, global_after.auth_count);
}
