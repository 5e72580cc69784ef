//! Peers for the integration tests: real servers on 127.0.0.1 (ephemeral ports), a
//! certificate authority made at test time, and a capture of the tracing output.
//!
//! ```no_run
//! let echo = tests::servers::echo();
//! let reply = gateway::websocket_request(&echo.url(), &serde_json::json!({"a": 1}),
//!     std::time::Duration::from_secs(5), None).unwrap();
//! assert_eq!(reply.response["a"], 1);
//! ```
#![deny(missing_docs, missing_debug_implementations)]

pub mod capture;
pub mod pki;
pub mod servers;

/// Runs one test body at a time within a test binary, for tests that change process-wide
/// state (the manager's configuration and counters, environment variables).
pub fn serial() -> parking_lot::MutexGuard<'static, ()> {
    static LOCK: parking_lot::Mutex<()> = parking_lot::Mutex::new(());
    LOCK.lock()
}
