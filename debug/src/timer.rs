//! Timing lines.

use std::time::Instant;

use crate::flags::{timing_enabled, Scope};

/// Measures one step and, when the scope's timing output is on, emits
/// `[<cid>] [<SCOPE>-TIMING] <label>: 12.34ms` when finished or dropped.
///
/// When timing is off, starting a timer reads no clock.
///
/// ```
/// let timer = debug::Timer::start(debug::Scope::Websocket, "abc", "connect");
/// // ... the work ...
/// timer.finish();
/// ```
#[derive(Debug)]
#[must_use = "a timer measures until it is finished or dropped"]
pub struct Timer<'a> {
    scope: Scope,
    correlation_id: &'a str,
    label: &'static str,
    started: Option<Instant>,
}

impl<'a> Timer<'a> {
    /// Starts timing `label` for `scope`.
    pub fn start(scope: Scope, correlation_id: &'a str, label: &'static str) -> Self {
        let started = timing_enabled(scope).then(Instant::now);
        Timer {
            scope,
            correlation_id,
            label,
            started,
        }
    }

    /// Stops the timer and emits its line (same as dropping it).
    pub fn finish(self) {}
}

impl Drop for Timer<'_> {
    fn drop(&mut self) {
        if let Some(started) = self.started {
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            tracing::info!(
                "[{}] [{}-TIMING] {}: {:.2}ms",
                self.correlation_id,
                self.scope.name(),
                self.label,
                ms
            );
        }
    }
}
