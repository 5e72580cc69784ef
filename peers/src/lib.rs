//! Loopback peers for the demo and the tests: an echo server and a Home Assistant stand-in
//! that speaks Home Assistant's WebSocket protocol. Both listen on 127.0.0.1 with an
//! ephemeral port and stop when dropped; every connection ends by itself after
//! [`CONNECTION_LIFETIME`] of silence.
//!
//! ```
//! let echo = peers::echo().unwrap();
//! assert!(echo.url().starts_with("ws://127.0.0.1:"));
//! ```
#![deny(missing_docs, missing_debug_implementations)]

mod extension;
mod ha_states;
mod home_assistant;
pub mod hostile;
mod lambda_watch;
mod proxy;
mod reflect;
mod server;
mod stalls;

use std::io::{Read, Write};
use std::sync::Arc;

use tungstenite::WebSocket;

pub use extension::SecretsExtension;
pub use home_assistant::{HaStandIn, Quirks, STAND_IN_VERSION};
pub use lambda_watch::LambdaWatch;
pub use proxy::{raw_connect_status, ProxySetup, TinyProxy};
pub use reflect::{reflector, reflector_choosing};
pub use server::{Behaviour, Server, CONNECTION_LIFETIME};
pub use stalls::{
    large_text_reply, one_byte_short, shrink_receive_buffer, StallAfter, StalledReader,
    STALLED_RECEIVE_BUFFER,
};

/// Echoes every text and binary message until the peer leaves.
pub fn echo_loop<S: Read + Write>(mut ws: WebSocket<S>) {
    while let Ok(message) = ws.read() {
        if (message.is_text() || message.is_binary()) && ws.send(message).is_err() {
            break;
        }
    }
}

/// Starts an echo server on 127.0.0.1.
///
/// ```
/// let echo = peers::echo().unwrap();
/// drop(echo); // stops it
/// ```
pub fn echo() -> std::io::Result<Server> {
    Server::start(
        "ws",
        Arc::new(|stream| {
            if let Ok(ws) = tungstenite::accept(stream) {
                echo_loop(ws);
            }
        }),
    )
}

/// Whether a test that needs `tool` should run: `true` when it is `present`; else a panic
/// under CI (`CI` set: `.ci/run` installs it, so its absence is a failure) and, elsewhere,
/// `false` with a line saying how to get it (`install`).
///
/// ```
/// assert!(peers::required_in_ci(true, "chromium", "apt-get install chromium"));
/// ```
pub fn required_in_ci(present: bool, tool: &str, install: &str) -> bool {
    if present {
        return true;
    }
    assert!(std::env::var_os("CI").is_none(), "{tool} is required in CI");
    eprintln!("skipped: {tool} is not installed ({install})");
    false
}
