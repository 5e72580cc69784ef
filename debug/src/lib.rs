//! Scope-gated debug and timing output for every layer of the framework, each line tagged
//! with the correlation id of the request it belongs to.
//!
//! A line of scope `WEBSOCKET` is emitted when the master switch `DEBUG_MODE` **and**
//! `WEBSOCKET_DEBUG_MODE` are on; its timing lines when `DEBUG_MODE` **and**
//! `WEBSOCKET_DEBUG_TIMING` are on. Values `true`, `1` and `yes` (any case) switch a flag on.
//! Each crate declares its own [`Scope`]; the switches are read once and cached, and
//! [`reload`] reads them again.
//!
//! The correlation id is not a parameter: it lives on a `tracing` span
//! ([`CorrelationId::span`]) that every thread working for the request enters. Lines are
//! `tracing` events at `INFO`; [`LogLayer`] renders them as
//!
//! ```text
//! [3f2a9c1e-8b4d] [WEBSOCKET-DEBUG] Connecting to WebSocket (url=wss://example.com, timeout=10)
//! [3f2a9c1e-8b4d] [WEBSOCKET-TIMING] connect: 234.56ms
//! ```
//!
//! or, with `AWS_LAMBDA_LOG_FORMAT=JSON`, as JSON records with `correlation_id`, `scope`
//! and `kind` in their fields. When a switch is off a line costs two relaxed atomic loads
//! and a branch: [`debug_line!`] does not format its arguments.
//!
//! ```
//! use debug::{debug_line, CorrelationId, Scope, Timer};
//! static WEBSOCKET: Scope = Scope::new("WEBSOCKET");
//!
//! let id = CorrelationId::generate();
//! let span = id.span();
//! let _in = id.enter(&span);
//! debug_line!(WEBSOCKET, "Connecting to WebSocket (url={}, timeout={})", "ws://127.0.0.1:9", 10);
//! let timer = Timer::start(&WEBSOCKET, "connect");
//! timer.finish();
//! ```
#![deny(missing_docs, missing_debug_implementations)]

mod correlation;
mod layer;
mod sanitize;
mod scope;
mod secrets;
mod timer;

pub use correlation::{
    current, generate_correlation_id, CorrelationId, Entered, InvalidCorrelationId, Scoped,
    CORRELATION_ID_LEN, MAX_CORRELATION_ID_CHARS,
};
pub use layer::{install, LogFormat, LogLayer};
pub use sanitize::{escape_line, is_unsafe_in_a_line, message_keys, redact_url, seconds};
pub use scope::{env_flag, reload, Scope};
pub use secrets::{
    contains_secret, redact, redact_json, register_secret, SecretGuard, MIN_SECRET_LEN, REDACTED,
};
pub use timer::Timer;

/// The `tracing` target of the framework's lines and spans.
pub const TARGET: &str = "suga";

/// Writes one debug line for `scope` (used by [`debug_line!`]; call that instead).
///
/// ```
/// static GATEWAY: debug::Scope = debug::Scope::new("GATEWAY");
/// debug::emit_debug(&GATEWAY, format_args!("hello {}", 1));
/// ```
pub fn emit_debug(scope: &Scope, args: std::fmt::Arguments<'_>) {
    tracing::info!(target: TARGET, scope = scope.name(), kind = "debug", "{}", args);
}

/// Writes one warning line for `scope`, whatever the debug switches say: `[<cid>]
/// [<SCOPE>-WARNING] <message>` through the installed subscriber, or on standard error
/// (redacted, one line) when none is installed — a warning must never be lost.
///
/// ```
/// static WEBSOCKET: debug::Scope = debug::Scope::new("WEBSOCKET");
/// debug::warn_line(&WEBSOCKET, format_args!("certificate verification is off"));
/// ```
pub fn warn_line(scope: &Scope, args: std::fmt::Arguments<'_>) {
    if tracing::dispatcher::has_been_set() {
        tracing::warn!(target: TARGET, scope = scope.name(), kind = "warning", "{}", args);
    } else {
        let text = args.to_string();
        let line = escape_line(&redact(&text)).into_owned();
        let cid = current();
        eprintln!(
            "[{}] [{}-WARNING] {line}",
            cid.as_ref().map_or("-", |c| c.as_str()),
            scope.name()
        );
    }
}

/// Emits `[<cid>] [<SCOPE>-DEBUG] <formatted message>` when the scope's debug output is on;
/// `scope` is a `static` [`Scope`].
///
/// Arguments are formatted only when the line is emitted.
///
/// ```
/// use debug::{debug_line, Scope};
/// static INTERFACE: Scope = Scope::new("INTERFACE");
/// debug_line!(INTERFACE, "Parsed operation={}", "request");
/// ```
#[macro_export]
macro_rules! debug_line {
    ($scope:expr, $($arg:tt)+) => {
        if $scope.debug_enabled() {
            $crate::emit_debug(&$scope, format_args!($($arg)+));
        }
    };
}
