//! The manager's limits and counters: rate limit, registry bound, message size, every stats
//! field, and consistency under 16 threads. Each test works on a core of its own, so they
//! run in parallel without sharing counters.

use std::time::{Duration, Instant};

use gateway::{Gateway, ManagerConfig, Stats};
use serde_json::json;
use tests::{own_gateway, servers};

const T: Duration = Duration::from_secs(5);

/// One cheap admitted operation: closing a handle that does not exist.
fn cheap_op(gw: &Gateway) -> Result<(), gateway::Error> {
    match gw.close("ws-0", &gateway::Call::new()) {
        Err(e) if tests::failure(&e).code == gateway::codes::WEBSOCKET_NO_CONNECTION => Ok(()),
        Err(e) => Err(e),
        Ok(_) => panic!("ws-0 is never a handle"),
    }
}

#[test]
fn rate_limit_admits_300_refuses_the_301st_and_slides() {
    let gw = own_gateway(ManagerConfig::default());
    let start = Instant::now();
    for i in 0..300 {
        cheap_op(&gw).unwrap_or_else(|e| panic!("operation {i} refused: {e}"));
    }
    let err = cheap_op(&gw).unwrap_err();
    assert!(
        start.elapsed() < Duration::from_millis(900),
        "too slow to test the window"
    );
    assert_eq!(
        tests::failure(&err).code,
        gateway::codes::RATE_LIMIT_EXCEEDED
    );
    assert_eq!(tests::failure(&err).details["max_rate_limit"], 300);

    let stats = gw.get_stats().unwrap();
    assert_eq!(stats.total_operations, 300);
    assert_eq!(stats.rate_limited_count, 1);
    assert_eq!(stats.current_rate_limit_size, 300);
    assert_eq!(stats.max_rate_limit, 300);

    // Once the first operations leave the window, new ones are admitted again.
    std::thread::sleep(
        Duration::from_millis(1000).saturating_sub(start.elapsed()) + Duration::from_millis(50),
    );
    cheap_op(&gw).unwrap();
    assert!(gw.get_stats().unwrap().current_rate_limit_size < 300);
}

#[test]
fn rate_limit_is_configurable() {
    let gw = own_gateway(ManagerConfig::default().rate_limit(5, Duration::from_millis(200)));
    for _ in 0..5 {
        cheap_op(&gw).unwrap();
    }
    let err = cheap_op(&gw).unwrap_err();
    assert_eq!(
        tests::failure(&err).code,
        gateway::codes::RATE_LIMIT_EXCEEDED
    );
    std::thread::sleep(Duration::from_millis(220));
    cheap_op(&gw).unwrap();
    let stats = gw.get_stats().unwrap();
    assert_eq!(stats.max_rate_limit, 5);
}

#[test]
fn every_stats_field_counts() {
    let gw = own_gateway(ManagerConfig::default());
    assert_eq!(
        gw.get_stats().unwrap(),
        Stats {
            max_rate_limit: 300,
            ..Stats::default()
        }
    );
    let echo = servers::echo();
    gw.request(
        &echo.url(),
        &json!({"a": 1}),
        &gateway::Call::new().timeout(T),
    )
    .unwrap();
    let c = gw
        .connect(&echo.url(), &gateway::Call::new().timeout(T))
        .unwrap();
    let h = c.connection.as_str();
    gw.send(h, &json!({"b": 2}), &gateway::Call::new()).unwrap();
    gw.receive(h, &gateway::Call::new().timeout(T)).unwrap();
    gw.close(h, &gateway::Call::new()).unwrap();
    cheap_op(&gw).unwrap(); // admitted, fails
    let stats = gw.get_stats().unwrap();
    assert_eq!(
        stats,
        Stats {
            total_operations: 6,
            connections_count: 2,
            messages_sent_count: 2,
            messages_received_count: 2,
            errors_count: 1,
            rate_limited_count: 0,
            current_rate_limit_size: 6,
            max_rate_limit: 300,
            ..Stats::default()
        }
    );
    let json = serde_json::to_value(stats).unwrap();
    let mut keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "connections_count",
            "current_rate_limit_size",
            "dead_connections",
            "errors_count",
            "liveness_checks",
            "max_rate_limit",
            "messages_received_count",
            "messages_sent_count",
            "rate_limited_count",
            "reconnects_count",
            "total_operations"
        ]
    );
    let envelope = gw.execute("get_stats", json!({}));
    assert_eq!(envelope["data"], json);

    gw.reset(&gateway::Call::new()).unwrap();
    assert_eq!(
        gw.get_stats().unwrap(),
        Stats {
            max_rate_limit: 300,
            ..Stats::default()
        }
    );
}

#[test]
fn reset_closes_open_connections() {
    let gw = own_gateway(ManagerConfig::default());
    let echo = servers::echo();
    let c = gw
        .connect(&echo.url(), &gateway::Call::new().timeout(T))
        .unwrap();
    assert_eq!(gw.core().open_connections(), vec![c.connection.clone()]);
    gw.reset(&gateway::Call::new()).unwrap();
    assert!(gw.core().open_connections().is_empty());
    let err = gw
        .send(c.connection.as_str(), &json!({}), &gateway::Call::new())
        .unwrap_err();
    assert_eq!(
        tests::failure(&err).code,
        gateway::codes::WEBSOCKET_NO_CONNECTION
    );
    // Handles are never reused after a reset.
    let d = gw
        .connect(&echo.url(), &gateway::Call::new().timeout(T))
        .unwrap();
    assert_ne!(d.connection, c.connection);
    gw.close(d.connection.as_str(), &gateway::Call::new())
        .unwrap();
}

#[test]
fn registry_is_bounded() {
    let gw = own_gateway(ManagerConfig::default().max_connections(3));
    let echo = servers::echo();
    let handles: Vec<_> = (0..3)
        .map(|_| {
            gw.connect(&echo.url(), &gateway::Call::new().timeout(T))
                .unwrap()
                .connection
        })
        .collect();
    let err = gw
        .connect(&echo.url(), &gateway::Call::new().timeout(T))
        .unwrap_err();
    assert_eq!(tests::failure(&err).code, gateway::codes::REGISTRY_FULL);
    assert_eq!(tests::failure(&err).details["max_connections"], 3);
    // A request does not take a registry place.
    gw.request(&echo.url(), &json!({}), &gateway::Call::new().timeout(T))
        .unwrap();
    gw.close(handles[0].as_str(), &gateway::Call::new())
        .unwrap();
    let again = gw
        .connect(&echo.url(), &gateway::Call::new().timeout(T))
        .unwrap();
    gw.close(again.connection.as_str(), &gateway::Call::new())
        .unwrap();
}

#[test]
fn the_default_registry_holds_64() {
    let gw = own_gateway(ManagerConfig::default());
    let echo = servers::echo();
    for _ in 0..64 {
        gw.connect(&echo.url(), &gateway::Call::new().timeout(T))
            .unwrap();
    }
    let err = gw
        .connect(&echo.url(), &gateway::Call::new().timeout(T))
        .unwrap_err();
    assert_eq!(tests::failure(&err).code, gateway::codes::REGISTRY_FULL);
}

#[test]
fn message_size_is_limited_both_ways() {
    let gw = tests::own_gateway_with(
        ManagerConfig::default(),
        gateway::ConnectionConfig::default().max_message_size(1024),
    );
    let echo = servers::echo();
    let big = json!({"blob": "y".repeat(2000)});
    let err = gw
        .request(&echo.url(), &big, &gateway::Call::new().timeout(T))
        .unwrap_err();
    assert_eq!(tests::failure(&err).code, gateway::codes::MESSAGE_TOO_LARGE);
    let small = json!({"blob": "y".repeat(900)});
    gw.request(&echo.url(), &small, &gateway::Call::new().timeout(T))
        .unwrap();

    let server = servers::big_reply(4000);
    let err = gw
        .request(&server.url(), &json!({}), &gateway::Call::new().timeout(T))
        .unwrap_err();
    assert_eq!(
        tests::failure(&err).code,
        gateway::codes::MESSAGE_TOO_LARGE,
        "{err:?}"
    );
}

#[test]
fn sixteen_threads_keep_stats_consistent() {
    let gw = own_gateway(ManagerConfig::default());
    let echo = servers::echo();
    let url = echo.url();
    const THREADS: usize = 16;
    const REQUESTS: usize = 5;
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let url = url.clone();
            let gw = &gw;
            scope.spawn(move || {
                for r in 0..REQUESTS {
                    let msg = json!({"thread": t, "request": r});
                    let reply = gw
                        .request(&url, &msg, &gateway::Call::new().timeout(T))
                        .unwrap();
                    assert_eq!(reply.response().unwrap(), msg);
                }
                let c = gw.connect(&url, &gateway::Call::new().timeout(T)).unwrap();
                let h = c.connection.as_str();
                let msg = json!({"thread": t});
                gw.send(h, &msg, &gateway::Call::new()).unwrap();
                assert_eq!(
                    gw.receive(h, &gateway::Call::new().timeout(T))
                        .unwrap()
                        .message()
                        .unwrap(),
                    msg
                );
                gw.close(h, &gateway::Call::new()).unwrap();
            });
        }
    });
    let per_thread = (REQUESTS + 4) as u64;
    let stats = gw.get_stats().unwrap();
    assert_eq!(stats.total_operations, THREADS as u64 * per_thread);
    assert_eq!(stats.connections_count, (THREADS * (REQUESTS + 1)) as u64);
    assert_eq!(stats.messages_sent_count, (THREADS * (REQUESTS + 1)) as u64);
    assert_eq!(
        stats.messages_received_count,
        (THREADS * (REQUESTS + 1)) as u64
    );
    assert_eq!(stats.errors_count, 0);
    assert_eq!(stats.rate_limited_count, 0);
    assert!(gw.core().open_connections().is_empty());
}
