//! Home Assistant's own connections: a core no JSON caller can name or exhaust, and its
//! own rate accounting (one command is one operation; reading is not).

use std::time::{Duration, Instant};

use once_cell::sync::Lazy;
use parking_lot::Mutex;
use websocket::{ManagerConfig, RateLimiter, WebSocketCore};

use crate::error::Result;

/// Commands admitted per second, across every session of the process. Reading results and
/// events is not counted: only what is sent.
pub const COMMANDS_PER_SECOND: usize = 300;

/// The core Home Assistant's connections are opened on: not the gateway's, so a JSON
/// caller can neither name its connections nor fill its places; its own limiter (not the
/// core's) counts commands.
static CORE: Lazy<WebSocketCore> =
    Lazy::new(|| WebSocketCore::from_env(ManagerConfig::default().without_rate_limit()));

static LIMITER: Lazy<Mutex<RateLimiter>> = Lazy::new(|| {
    Mutex::new(RateLimiter::new(
        COMMANDS_PER_SECOND,
        Duration::from_secs(1),
    ))
});

pub(crate) fn core() -> &'static WebSocketCore {
    &CORE
}

/// Counts one command against the limit, or refuses it.
pub(crate) fn admit_command() -> Result<()> {
    let mut limiter = LIMITER.lock();
    if limiter.try_acquire(Instant::now()) {
        Ok(())
    } else {
        Err(websocket::Error::RateLimited {
            max: limiter.max(),
            window: limiter.window(),
        }
        .into())
    }
}

/// Replaces the limit on Home Assistant commands: `max` per `window` (default
/// [`COMMANDS_PER_SECOND`] per second; `usize::MAX` turns it off, as benchmarks need).
///
/// ```
/// home_assistant::set_command_rate_limit(300, std::time::Duration::from_secs(1));
/// ```
pub fn set_command_rate_limit(max: usize, window: Duration) {
    *LIMITER.lock() = RateLimiter::new(max, window);
}

/// Trusts an extra certificate authority (PEM) for Home Assistant's `wss://` connections
/// (what `HA_CA_CERT` does from a file).
///
/// ```
/// assert!(home_assistant::add_root_certificate(b"not a pem").is_err());
/// ```
pub fn add_root_certificate(pem: &[u8]) -> Result<()> {
    Ok(CORE.add_root_certificate(pem)?)
}
