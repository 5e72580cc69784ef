//! The same Autobahn|Testsuite echo client written on raw tungstenite, so one run of the
//! suite shows which results are tungstenite's own.
//!
//! `cargo run --release -p tests --example autobahn_raw -- --agent tungstenite-raw`

use clap::Parser;
use tungstenite::protocol::WebSocketConfig;

/// Runs every case of an Autobahn fuzzing server with raw tungstenite.
#[derive(Parser, Debug)]
struct Args {
    /// The fuzzing server.
    #[arg(long, default_value = "ws://127.0.0.1:9001")]
    server: String,
    /// The agent name the reports are filed under.
    #[arg(long, default_value = "tungstenite-raw")]
    agent: String,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let config = WebSocketConfig::default()
        .max_message_size(Some(16 << 20))
        .max_frame_size(Some(16 << 20));
    let (mut ws, _) = tungstenite::connect(format!("{}/getCaseCount", args.server))?;
    let count: u32 = ws.read()?.into_text()?.trim().parse()?;
    let _ = ws.close(None);
    for case in 1..=count {
        let url = format!("{}/runCase?case={case}&agent={}", args.server, args.agent);
        let Ok((mut ws, _)) = tungstenite::client::connect_with_config(url, Some(config), 3) else {
            continue;
        };
        while let Ok(message) = ws.read() {
            if (message.is_text() || message.is_binary()) && ws.send(message).is_err() {
                break;
            }
        }
    }
    let url = format!("{}/updateReports?agent={}", args.server, args.agent);
    let (mut ws, _) = tungstenite::connect(url)?;
    while ws.read().is_ok() {}
    Ok(())
}
