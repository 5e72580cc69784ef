//! The Autobahn|Testsuite client driven through the gateway: every case of the fuzzing
//! server (`../shared/autobahn/fuzzingserver.sh`) is run with `Gateway::connect`,
//! `receive_message`, `send_message` and `close` on a core of its own (no rate limit,
//! messages up to the suite's 16 MiB), echoing text and binary messages back.
//!
//! `cargo run --release -p tests --example autobahn_client -- --agent suga-gateway`

use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use gateway::{ConnectionConfig, Content, Gateway, ManagerConfig, Message, WebSocketCore};

/// Runs every case of an Autobahn fuzzing server through the gateway.
#[derive(Parser, Debug)]
struct Args {
    /// The fuzzing server.
    #[arg(long, default_value = "ws://127.0.0.1:9001")]
    server: String,
    /// The agent name the reports are filed under.
    #[arg(long, default_value = "suga-gateway")]
    agent: String,
}

/// Longest wait for the suite's next message within a case.
const WAIT: Duration = Duration::from_secs(60);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let config = ManagerConfig::default().without_rate_limit();
    let connections = ConnectionConfig::default().max_message_size(16 << 20);
    let gateway = Gateway::new(Arc::new(
        WebSocketCore::new(config).with_connections(connections),
    ));

    let count = case_count(&gateway, &args.server)?;
    eprintln!("autobahn: {count} cases for agent {}", args.agent);
    for case in 1..=count {
        let url = format!("{}/runCase?case={case}&agent={}", args.server, args.agent);
        echo_case(&gateway, &url);
    }
    let url = format!("{}/updateReports?agent={}", args.server, args.agent);
    let c = gateway.connect(&url, &gateway::Call::new().timeout(WAIT))?;
    // The server closes once the reports are written.
    while gateway
        .receive_message(c.connection.as_str(), &gateway::Call::new().timeout(WAIT))
        .is_ok()
    {}
    let _ = gateway.close(c.connection.as_str(), &gateway::Call::new());
    Ok(())
}

fn case_count(gateway: &Gateway, server: &str) -> Result<u32, Box<dyn std::error::Error>> {
    let c = gateway.connect(
        &format!("{server}/getCaseCount"),
        &gateway::Call::new().timeout(WAIT),
    )?;
    let reply =
        gateway.receive_message(c.connection.as_str(), &gateway::Call::new().timeout(WAIT))?;
    let _ = gateway.close(c.connection.as_str(), &gateway::Call::new());
    match reply.content {
        Content::Any(Message::Text(text)) => Ok(text.trim().parse()?),
        other => Err(format!("unexpected case count: {other:?}").into()),
    }
}

/// Echoes every message of one case until the server ends it.
fn echo_case(gateway: &Gateway, url: &str) {
    let Ok(c) = gateway.connect(url, &gateway::Call::new().timeout(WAIT)) else {
        return;
    };
    let handle = c.connection.as_str();
    while let Ok(received) = gateway.receive_message(handle, &gateway::Call::new().timeout(WAIT)) {
        let Content::Any(message) = received.content else {
            break;
        };
        if gateway
            .send_message(handle, message, &gateway::Call::new())
            .is_err()
        {
            break;
        }
    }
    let _ = gateway.close(handle, &gateway::Call::new());
}
