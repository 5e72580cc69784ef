//! Whole-process workload for memory comparison: `raw` uses tungstenite directly,
//! `gateway` the framework. Both run 500 requests then hold 64 open connections with one
//! round trip each, against an in-process loopback echo server.
//!
//! `scripts/bench-memory.sh` runs both under `/usr/bin/time` and prints peak RSS.
//!
//! `serve-echo` serves an echo server until killed and prints its URL. `serve-worst` instead serves, until killed, one reply of the largest size the defaults
//! allow in the worst shape (`[0,0,...]`) and prints its URL, for measuring the whole
//! `lambda invoke` process on it.

use std::net::TcpStream;
use std::time::Duration;

use serde_json::json;
use tungstenite::Message;

const T: Duration = Duration::from_secs(5);

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    if mode == "serve-worst" {
        serve_worst();
        return;
    }
    if mode == "serve-echo" {
        let echo = peers::echo().expect("echo server");
        println!("{}", echo.url());
        loop {
            std::thread::sleep(Duration::from_secs(60));
        }
    }
    let echo = peers::echo().expect("echo server");
    let url = echo.url();
    let addr = echo.addr();
    let message = json!({"type": "get_states", "id": 7});
    gateway::websocket_configure(
        gateway::ManagerConfig::default().rate_limit(usize::MAX, Duration::from_secs(1)),
    );
    match mode.as_str() {
        "raw" => {
            for _ in 0..500 {
                let tcp = TcpStream::connect(addr).expect("connect");
                tcp.set_nodelay(true).expect("nodelay");
                let (mut ws, _) = tungstenite::client(url.as_str(), tcp).expect("upgrade");
                ws.send(Message::text(message.to_string())).expect("send");
                ws.read().expect("read");
                let _ = ws.close(None);
                while ws.read().is_ok() {}
            }
            let mut open = Vec::new();
            for _ in 0..64 {
                let tcp = TcpStream::connect(addr).expect("connect");
                let (mut ws, _) = tungstenite::client(url.as_str(), tcp).expect("upgrade");
                ws.send(Message::text(message.to_string())).expect("send");
                ws.read().expect("read");
                open.push(ws);
            }
        }
        "gateway" => {
            for _ in 0..500 {
                gateway::websocket_request(&url, &message, &gateway::Call::new().timeout(T))
                    .expect("request");
            }
            for _ in 0..64 {
                let c = gateway::websocket_connect(&url, &gateway::Call::new().timeout(T))
                    .expect("connect");
                gateway::websocket_send(c.connection.as_str(), &message, &gateway::Call::new())
                    .expect("send");
                gateway::websocket_receive(c.connection.as_str(), &gateway::Call::new().timeout(T))
                    .expect("receive");
            }
        }
        _ => {
            eprintln!("usage: memory_probe raw|gateway");
            std::process::exit(2);
        }
    }
}

/// Serves `[0,0,...]` of the largest default message size to every request.
fn serve_worst() {
    let size = gateway::DEFAULT_MAX_MESSAGE_SIZE;
    let mut body = String::with_capacity(size);
    body.push('[');
    while body.len() + 3 <= size {
        if body.len() > 1 {
            body.push(',');
        }
        body.push('0');
    }
    body.push(']');
    let body = std::sync::Arc::new(body);
    let server = peers::Server::start(
        "ws",
        std::sync::Arc::new(move |stream| {
            if let Ok(mut ws) = tungstenite::accept(stream) {
                if ws.read().is_ok() {
                    let _ = ws.send(Message::text(body.as_str()));
                }
                while ws.read().is_ok() {}
            }
        }),
    )
    .expect("server");
    println!("{}", server.url());
    loop {
        std::thread::sleep(Duration::from_secs(60));
    }
}
