//! Scope-gated debug and timing output for every layer of the framework.
//!
//! A line for scope `WEBSOCKET` is emitted when the master switch `DEBUG_MODE` **and**
//! `WEBSOCKET_DEBUG_MODE` are on; its timing lines when `DEBUG_MODE` **and**
//! `WEBSOCKET_DEBUG_TIMING` are on. Values `true`, `1` and `yes` (any case) switch a flag on.
//! The environment is read once and cached; [`reload`] reads it again.
//!
//! Lines go through [`tracing`] at `INFO`, so whatever subscriber the program installed (a
//! Lambda's included) shows them with its default filter:
//!
//! ```text
//! [3f2a9c1e-8b4d] [WEBSOCKET-DEBUG] Connecting to WebSocket (url=wss://example.com, timeout=10)
//! [3f2a9c1e-8b4d] [WEBSOCKET-TIMING] connect: 234.56ms
//! ```
//!
//! When a flag is off the cost is one load of a cached atomic and one branch: the
//! [`debug_line!`] macro does not format its arguments.
//!
//! ```
//! use debug::{debug_line, Scope, Timer};
//!
//! let cid = debug::generate_correlation_id();
//! debug_line!(Scope::Websocket, &cid, "Connecting to WebSocket (url={}, timeout={})", "ws://127.0.0.1:9", 10);
//! let timer = Timer::start(Scope::Websocket, &cid, "connect");
//! timer.finish();
//! ```
#![deny(missing_docs, missing_debug_implementations)]

mod correlation;
mod flags;
mod sanitize;
mod timer;

pub use correlation::{generate_correlation_id, CORRELATION_ID_LEN};
pub use flags::{debug_enabled, env_flag, reload, timing_enabled, Scope};
pub use sanitize::{message_keys, redact_url, seconds};
pub use timer::Timer;

/// Writes one debug line for `scope` (used by [`debug_line!`]; call that instead).
///
/// ```
/// debug::emit_debug(debug::Scope::Gateway, "abc", format_args!("hello {}", 1));
/// ```
pub fn emit_debug(scope: Scope, correlation_id: &str, args: std::fmt::Arguments<'_>) {
    tracing::info!("[{}] [{}-DEBUG] {}", correlation_id, scope.name(), args);
}

/// Emits `[<cid>] [<SCOPE>-DEBUG] <formatted message>` when the scope's debug output is on.
///
/// Arguments are formatted only when the line is emitted.
///
/// ```
/// use debug::{debug_line, Scope};
/// debug_line!(Scope::Interface, "abc", "Dispatching operation={}", "request");
/// ```
#[macro_export]
macro_rules! debug_line {
    ($scope:expr, $cid:expr, $($arg:tt)+) => {
        if $crate::debug_enabled($scope) {
            $crate::emit_debug($scope, $cid, format_args!($($arg)+));
        }
    };
}
