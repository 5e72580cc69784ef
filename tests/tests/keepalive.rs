//! Keepalive without a background thread: on the next use of a held connection idle for
//! longer than the ping interval, a liveness check (a WebSocket ping) bounded by
//! min(ping timeout, half the time left); a peer that answers nothing — a black hole — is
//! found dead and the connection opened again under the same handle (or, with reconnect
//! off, dropped and reported); data that arrives before the pong is kept, never lost;
//! latency is measured and reported by `info` and the stats.

use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gateway::{Call, Gateway};
use serde_json::{json, Value};

/// Its first connection upgrades and then reads nothing and answers nothing (a black hole:
/// the socket stays open); later ones echo.
fn black_hole_first() -> peers::Server {
    let accepted = Arc::new(AtomicUsize::new(0));
    peers::Server::start(
        "ws",
        Arc::new(move |stream: TcpStream| {
            let n = accepted.fetch_add(1, Ordering::SeqCst);
            let Ok(ws) = tungstenite::accept(stream) else {
                return;
            };
            if n == 0 {
                std::thread::sleep(Duration::from_secs(5));
                drop(ws);
            } else {
                peers::echo_loop(ws);
            }
        }),
    )
    .expect("server")
}

fn gateway(ping_interval: &str, ping_timeout: &str) -> Gateway {
    tests::gateway_from_env(&[
        ("WS_PING_INTERVAL", ping_interval.into()),
        ("WS_PING_TIMEOUT", ping_timeout.into()),
    ])
}

fn run(gateway: &Gateway, event: Value) -> Value {
    tests::answer(gateway, event)
}

/// A connection to `url` on `gateway`, held idle for 300 ms (longer than the tests' ping
/// intervals); its handle.
fn held_after_pause(gateway: &Gateway, url: &str) -> String {
    let handle = gateway
        .connect(url, &Call::new())
        .unwrap()
        .connection
        .to_string();
    std::thread::sleep(Duration::from_millis(300));
    handle
}

#[test]
fn a_black_hole_after_a_pause_is_found_within_ping_timeout_and_replaced() {
    let server = black_hole_first();
    let gw = gateway("0.2", "0.5");
    let opened = run(&gw, json!({"operation": "connect", "url": server.url()}));
    let handle = opened["data"]["connection"].as_str().unwrap().to_owned();
    std::thread::sleep(Duration::from_millis(300));

    let started = Instant::now();
    let sent = run(
        &gw,
        json!({"operation": "send", "connection": handle, "message": {"after": "pause"}}),
    );
    let took = started.elapsed();
    assert_eq!(sent["success"], true, "{sent}");
    // Found dead when the 0.5 s check ran out, then opened again at once.
    assert!(took >= Duration::from_millis(450), "{took:?}");
    assert!(took < Duration::from_millis(1500), "{took:?}");

    // The same handle, on the new connection.
    let echoed = run(&gw, json!({"operation": "receive", "connection": handle}));
    assert_eq!(echoed["data"]["message"]["after"], "pause", "{echoed}");
    let info = run(&gw, json!({"operation": "info", "connection": handle}));
    assert_eq!(info["data"]["state"], "open", "{info}");
    assert_eq!(info["data"]["reconnects"], 1, "{info}");
    assert!(
        info["data"]["age_seconds"].as_f64().unwrap() >= 0.3,
        "{info}"
    );
    let stats = gw.get_stats().unwrap();
    assert_eq!(stats.liveness_checks, 1);
    assert_eq!(stats.dead_connections, 1);
    assert_eq!(stats.reconnects_count, 1);
}

#[test]
fn with_reconnect_off_a_dead_connection_is_reported_and_dropped() {
    let server = black_hole_first();
    let gw = gateway("0.2", "0.3");
    let opened = run(
        &gw,
        json!({"operation": "connect", "url": server.url(), "reconnect": false}),
    );
    let handle = opened["data"]["connection"].as_str().unwrap().to_owned();
    std::thread::sleep(Duration::from_millis(300));
    let sent = run(
        &gw,
        json!({"operation": "send", "connection": handle, "text": "never delivered"}),
    );
    assert_eq!(sent["error_code"], "WEBSOCKET_CONNECTION_CLOSED", "{sent}");
    assert_eq!(sent["details"]["phase"], "ping", "{sent}");
    assert_eq!(sent["details"]["timeout_seconds"], 0.3, "{sent}");
    assert!(sent["error"].as_str().unwrap().contains("liveness check"));
    let gone = run(&gw, json!({"operation": "info", "connection": handle}));
    assert_eq!(gone["error_code"], "WEBSOCKET_NO_CONNECTION", "{gone}");
}

#[test]
fn the_check_is_cut_to_half_the_time_the_operation_has_left() {
    let server = black_hole_first();
    // A ping timeout of 20 s, an operation of 1 s: the check gets 0.5 s, the reconnect the rest.
    let gw = gateway("0.2", "20");
    let handle = held_after_pause(&gw, &server.url());
    let started = Instant::now();
    gw.send(
        &handle,
        &json!({"n": 1}),
        &Call::new().timeout(Duration::from_secs(1)),
    )
    .unwrap();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(450) && took < Duration::from_secs(1),
        "{took:?}"
    );
}

#[test]
fn a_live_peer_after_a_pause_answers_and_its_latency_is_reported() {
    let echo = tests::servers::echo();
    let gw = gateway("0.1", "2");
    let handle = gw
        .connect(&echo.url(), &Call::new())
        .unwrap()
        .connection
        .to_string();
    let before = run(&gw, json!({"operation": "info", "connection": handle}));
    assert!(before["data"].get("latency_ms").is_none(), "{before}");
    std::thread::sleep(Duration::from_millis(200));
    gw.send(&handle, &json!({"x": 1}), &Call::new()).unwrap();
    let reply = gw.receive(&handle, &Call::new()).unwrap();
    assert_eq!(reply.message().unwrap()["x"], 1);
    let info = gw.info(&handle, &Call::new()).unwrap();
    let latency = info.info.latency_ms.expect("measured");
    assert!(latency > 0.0 && latency < 1000.0, "{latency}");
    assert_eq!(info.info.reconnects, 0);
    let stats = gw.get_stats().unwrap();
    assert_eq!(stats.liveness_checks, 1);
    assert_eq!(stats.dead_connections, 0);
    assert!(stats.last_latency_us.is_some());
    let json = serde_json::to_value(stats).unwrap();
    assert!(json["last_latency_us"].is_u64(), "{json}");
}

#[test]
fn messages_that_arrive_before_the_pong_are_kept_in_order() {
    let echo = tests::servers::echo();
    // At most two read ahead: the check stops there, alive, and nothing is dropped.
    let gw = tests::gateway_from_env(&[
        ("WS_PING_INTERVAL", "0.2".into()),
        ("WS_MAX_QUEUE_SIZE", "2".into()),
    ]);
    let handle = gw
        .connect(&echo.url(), &Call::new())
        .unwrap()
        .connection
        .to_string();
    for i in 0..3 {
        gw.send(&handle, &json!({"i": i}), &Call::new()).unwrap();
    }
    // The echoes wait unread in the socket while the connection pauses.
    std::thread::sleep(Duration::from_millis(300));
    for i in 0..3 {
        let reply = gw.receive(&handle, &Call::new()).unwrap();
        assert_eq!(reply.message().unwrap()["i"], i);
    }
    let info = gw.info(&handle, &Call::new()).unwrap();
    assert_eq!(info.info.queued_messages, 0);
    assert_eq!(gw.get_stats().unwrap().liveness_checks, 1);
}

#[test]
fn none_disables_the_check() {
    let server = black_hole_first();
    let gw = gateway("none", "0.3");
    let handle = held_after_pause(&gw, &server.url());
    // Nothing checks it: the send goes into the black hole's socket buffer.
    gw.send(&handle, &json!({"a": 1}), &Call::new()).unwrap();
    assert_eq!(gw.get_stats().unwrap().liveness_checks, 0);
}

#[test]
fn reconnecting_backs_off_and_stops_before_the_deadline() {
    // One connection upgrades and goes silent; then nothing listens any more.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let holder = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let ws = tungstenite::accept(stream).unwrap();
        drop(listener);
        std::thread::sleep(Duration::from_secs(4));
        drop(ws);
    });
    let gw = tests::gateway_from_env(&[
        ("WS_PING_INTERVAL", "0.1".into()),
        ("WS_PING_TIMEOUT", "0.2".into()),
        ("WS_RECONNECT_BACKOFF_BASE", "0.5".into()),
        ("WS_RECONNECT_JITTER", "0".into()),
    ]);
    let handle = gw
        .connect(&url, &Call::new())
        .unwrap()
        .connection
        .to_string();
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let err = gw
        .send(
            &handle,
            &json!({}),
            &Call::new().timeout(Duration::from_millis(1500)),
        )
        .unwrap_err();
    let took = started.elapsed();
    let failure = tests::failure(&err);
    // Check 0.2 s, attempt at once, wait 0.5 s, attempt, the 1 s wait would pass the deadline.
    assert_eq!(
        failure.code,
        gateway::codes::WEBSOCKET_CONNECT_FAILED,
        "{failure:?}"
    );
    assert!(
        took >= Duration::from_millis(650) && took < Duration::from_millis(1500),
        "{took:?}"
    );
    let gone = gw.info(&handle, &Call::new()).unwrap_err();
    assert_eq!(
        tests::failure(&gone).code,
        gateway::codes::WEBSOCKET_NO_CONNECTION
    );
    let _ = holder.join();
}
