//! The framework against the raw library underneath, in one run, on one loopback echo
//! server: a full request (connect, send, receive, close) and a message round trip on an
//! open connection. Read the results as ratios (gateway / raw), not as absolute times.
//!
//! `cargo bench -p tests --bench overhead`

use std::net::TcpStream;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};
use tungstenite::{Message, WebSocket};

const T: Duration = Duration::from_secs(5);

/// The raw baseline: tungstenite over a TcpStream with TCP_NODELAY (as the framework sets).
fn raw_connect(url: &str) -> WebSocket<TcpStream> {
    let addr = url.trim_start_matches("ws://").trim_end_matches('/');
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_nodelay(true).unwrap();
    tungstenite::client(url, tcp).unwrap().0
}

fn raw_round_trip(ws: &mut WebSocket<TcpStream>, message: &Value) -> Value {
    ws.send(Message::text(message.to_string())).unwrap();
    loop {
        if let Message::Text(t) = ws.read().unwrap() {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

fn raw_request(url: &str, message: &Value) -> Value {
    let mut ws = raw_connect(url);
    let reply = raw_round_trip(&mut ws, message);
    ws.close(None).unwrap();
    while ws.read().is_ok() {}
    reply
}

fn benches(c: &mut Criterion) {
    let echo = peers::echo().unwrap();
    let url = echo.url();
    let message = json!({"type": "call_service", "domain": "light", "service": "turn_on",
                         "service_data": {"entity_id": "light.kitchen", "brightness": 120}, "id": 42});
    // Above the default rate limit of 300/s, which a benchmark would hit.
    gateway::websocket_configure(
        gateway::ManagerConfig::default().rate_limit(usize::MAX, Duration::from_millis(1000)),
    );

    let mut group = c.benchmark_group("request");
    group.bench_function("raw_tungstenite", |b| {
        b.iter(|| raw_request(&url, &message))
    });
    group.bench_function("gateway", |b| {
        b.iter(|| {
            gateway::websocket_request(&url, &message, &gateway::Call::new().timeout(T)).unwrap()
        })
    });
    group.finish();

    let mut group = c.benchmark_group("round_trip_open_connection");
    let mut raw = raw_connect(&url);
    group.bench_function("raw_tungstenite", |b| {
        b.iter(|| raw_round_trip(&mut raw, &message))
    });
    let conn = gateway::websocket_connect(&url, &gateway::Call::new().timeout(T)).unwrap();
    let h = conn.connection.as_str().to_owned();
    group.bench_function("gateway", |b| {
        b.iter(|| {
            gateway::websocket_send(&h, &message, &gateway::Call::new()).unwrap();
            gateway::websocket_receive(&h, &gateway::Call::new().timeout(T)).unwrap()
        })
    });
    group.finish();

    // Debug lines with their switches off: 15 calls, about as many as one request makes.
    debug::reload();
    static SCOPE: debug::Scope = debug::Scope::new("BENCH");
    let mut group = c.benchmark_group("debug_off");
    group.bench_function("no_calls", |b| b.iter(|| std::hint::black_box(15u32)));
    group.bench_function("fifteen_calls", |b| {
        b.iter(|| {
            for i in 0..15u32 {
                debug::debug_line!(SCOPE, "line {}", std::hint::black_box(i));
            }
            std::hint::black_box(15u32)
        })
    });
    group.finish();

    // The envelope of a typical reply, against serializing the same reply alone.
    let reply = json!({"entity_id": "light.kitchen", "state": "on",
                       "attributes": {"friendly_name": "Kitchen Light", "brightness": 120},
                       "last_changed": "2026-11-22T00:00:00+00:00", "context": {"id": "01H", "user_id": null}});
    let raw_reply = serde_json::value::to_raw_value(&reply).unwrap();
    let mut group = c.benchmark_group("envelope");
    group.bench_function("serde_json_alone", |b| {
        b.iter(|| serde_json::to_string(&raw_reply).unwrap())
    });
    group.bench_function("gateway_envelope", |b| {
        b.iter(|| gateway::Envelope::success("WebSocket request completed", &raw_reply))
    });
    group.finish();

    // Home Assistant: a command on the warm session against a cold one (connect, TLS,
    // authenticate, command), over wss:// to the stand-in.
    let token = "bench-token-0123456789";
    let pki = tests::pki::TestPki::generate();
    home_assistant::add_root_certificate(pki.ca_pem.as_bytes()).unwrap();
    let ha = peers::HaStandIn::start_tls(token, pki.acceptor()).unwrap();
    let config = home_assistant::HaConfig::new(&ha.base_url(), token).unwrap();
    home_assistant::set_command_rate_limit(usize::MAX, Duration::from_secs(1));
    let mut group = c.benchmark_group("home_assistant");
    group.bench_function("warm", |b| {
        let client = home_assistant::HaClient::new(config.clone(), None).unwrap();
        client.get_config(T).unwrap();
        b.iter(|| client.get_config(T).unwrap())
    });
    group.bench_function("cold", |b| {
        // Closing the previous session is set-up, not timed.
        b.iter_batched(
            || home_assistant::close_all_sessions(Duration::from_millis(200)),
            |()| {
                let client = home_assistant::HaClient::new(config.clone(), None).unwrap();
                client.get_config(T).unwrap()
            },
            criterion::BatchSize::PerIteration,
        )
    });
    group.bench_function("after_restart", |b| {
        // Home Assistant restarts between invocations (set-up, not timed); the timed call
        // finds its warm session gone, reconnects (TLS, auth) and runs its command.
        home_assistant::HaClient::new(config.clone(), None)
            .unwrap()
            .get_config(T)
            .unwrap();
        b.iter_batched(
            || ha.restart(),
            |()| {
                let client = home_assistant::HaClient::new(config.clone(), None).unwrap();
                client.get_config(T).unwrap()
            },
            criterion::BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group! {
    name = overhead;
    config = Criterion::default().sample_size(50).measurement_time(Duration::from_secs(4));
    targets = benches
}
criterion_main!(overhead);
