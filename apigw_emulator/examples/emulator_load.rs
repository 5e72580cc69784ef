//! The emulator's cost, for the benchmark report: starts `apigw-local` (the built-in app
//! in-process, the embedded DynamoDB in memory) and measures, on loopback:
//!
//! * connects per second: `CONNECTS` upgrades by 4 threads, each a full `$connect` (the
//!   function stores the connection) answered 101, all held at once (the emulator's RSS
//!   then, and its peak over the run);
//! * the round trip of one `ping` through the emulator and the function (`pong` back as
//!   the route's response) with 100 clients connected, one message at a time across them;
//! * the same with all 100 clients sending at once;
//! * the same round trip against a bare tungstenite echo server in this process (the
//!   WebSocket hop alone, for the ratio).
//!
//! Prints one JSON object. `emulator_load APIGW_LOCAL_BINARY [CONNECTS] [ROUNDS]`

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

type Client = WebSocket<MaybeTlsStream<std::net::TcpStream>>;

fn connect(url: &str) -> Client {
    let (mut ws, _) = tungstenite::connect(url).expect("connect");
    if let MaybeTlsStream::Plain(s) = ws.get_mut() {
        let _ = s.set_nodelay(true);
        let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    }
    ws
}

/// One round trip: a ping out, its answer back; microseconds.
fn round_trip(ws: &mut Client, text: &str) -> f64 {
    let start = Instant::now();
    ws.send(Message::text(text)).expect("send");
    loop {
        match ws.read().expect("read") {
            Message::Text(_) | Message::Binary(_) => break,
            _ => continue,
        }
    }
    start.elapsed().as_secs_f64() * 1e6
}

fn quantile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// A bare echo server (tungstenite on a thread per connection) on 127.0.0.1.
fn echo_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = stream.set_nodelay(true);
                let Ok(mut ws) = tungstenite::accept(stream) else {
                    return;
                };
                while let Ok(m) = ws.read() {
                    if (m.is_text() || m.is_binary()) && ws.send(m).is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("ws://{addr}/")
}

/// The p50 and p99 (µs) of `rounds` one-at-a-time round trips across `clients`, and of
/// `rounds` with every client sending at once.
fn latencies(clients: &mut [Client], rounds: usize, text: &str) -> (f64, f64, f64, f64) {
    for ws in clients.iter_mut() {
        round_trip(ws, text); // warm
    }
    let mut one = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let n = clients.len();
        one.push(round_trip(&mut clients[i % n], text));
    }
    let mut all = Vec::new();
    for _ in 0..(rounds / clients.len()).max(1) {
        let start = Instant::now();
        for ws in clients.iter_mut() {
            ws.send(Message::text(text)).expect("send");
        }
        for ws in clients.iter_mut() {
            loop {
                if let Message::Text(_) = ws.read().expect("read") {
                    break;
                }
            }
            all.push(start.elapsed().as_secs_f64() * 1e6);
        }
    }
    (
        quantile(&mut one, 0.5),
        quantile(&mut one, 0.99),
        quantile(&mut all, 0.5),
        quantile(&mut all, 0.99),
    )
}

/// A line of `/proc/PID/status` in KiB (`VmRSS`, `VmHWM`); 0 when unreadable.
fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Waits (at most 120 s) until the function counts no connection but the one asking:
/// the held connections' `$disconnect`s are done.
fn settle(url: &str) {
    let mut ws = connect(url);
    let until = Instant::now() + Duration::from_secs(120);
    while Instant::now() < until {
        if ws.send(Message::text(r#"{"type":"get_stats"}"#)).is_err() {
            return;
        }
        let Ok(Message::Text(text)) = ws.read() else {
            return;
        };
        let stats: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if stats["data"]["connected_clients"].as_i64() <= Some(1) {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(binary) = args.first() else {
        eprintln!("usage: emulator_load APIGW_LOCAL_BINARY [CONNECTS] [ROUNDS]");
        std::process::exit(2);
    };
    let connects: usize = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(2000);
    let rounds: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(2000);
    let mut child = Command::new(binary)
        .args(["--port", "0", "--in-memory"])
        .env("APIGW_DEV_IDENTITY", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start apigw-local");
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        use std::io::BufRead;
        let _ = std::io::BufReader::new(out).read_line(&mut line);
    }
    let ready: serde_json::Value = serde_json::from_str(&line).expect("the ready line");
    let url = ready["websocket"].as_str().expect("websocket").to_owned();

    // Connects per second: 4 threads, every connection held.
    let threads = 4;
    let start = Instant::now();
    let held: Vec<Vec<Client>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let url = url.clone();
                s.spawn(move || {
                    (0..connects / threads)
                        .map(|_| connect(&url))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a connecting thread"))
            .collect()
    });
    let connect_secs = start.elapsed().as_secs_f64();
    let opened: usize = held.iter().map(Vec::len).sum();
    let rss_held_kib = rss_kib(child.id(), "VmRSS");
    drop(held);
    settle(&url);

    let ping = r#"{"type":"ping"}"#;
    let mut clients: Vec<Client> = (0..100).map(|_| connect(&url)).collect();
    let (p50, p99, all50, all99) = latencies(&mut clients, rounds, ping);
    drop(clients);

    let echo = echo_server();
    let mut raw: Vec<Client> = (0..100).map(|_| connect(&echo)).collect();
    let (raw50, raw99, raw_all50, raw_all99) = latencies(&mut raw, rounds, ping);

    let peak_kib = rss_kib(child.id(), "VmHWM");
    let _ = child.kill();
    let _ = child.wait();
    println!(
        "{}",
        json!({
            "connects": opened,
            "connects_per_second": opened as f64 / connect_secs,
            "rss_with_connections_held_kib": rss_held_kib,
            "peak_rss_kib": peak_kib,
            "round_trip_us": {"p50": p50, "p99": p99},
            "round_trip_all_at_once_us": {"p50": all50, "p99": all99},
            "raw_round_trip_us": {"p50": raw50, "p99": raw99},
            "raw_round_trip_all_at_once_us": {"p50": raw_all50, "p99": raw_all99},
        })
    );
}
