//! Timing lines.

use std::time::Instant;

use crate::scope::Scope;

/// Measures one step and, when the scope's timing output is on, emits
/// `[<cid>] [<SCOPE>-TIMING] <label>: 12.34ms` when finished or dropped.
///
/// When timing is off, starting a timer reads no clock.
///
/// ```
/// static SCOPE: debug::Scope = debug::Scope::new("WEBSOCKET");
/// let timer = debug::Timer::start(&SCOPE, "connect");
/// // ... the work ...
/// timer.finish();
/// ```
#[derive(Debug)]
#[must_use = "a timer measures until it is finished or dropped"]
pub struct Timer {
    scope: &'static Scope,
    label: &'static str,
    started: Option<Instant>,
}

impl Timer {
    /// Starts timing `label` for `scope`.
    #[inline]
    pub fn start(scope: &'static Scope, label: &'static str) -> Self {
        let started = scope.timing_enabled().then(Instant::now);
        Timer {
            scope,
            label,
            started,
        }
    }

    /// Stops the timer and emits its line (same as dropping it).
    pub fn finish(self) {}
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Some(started) = self.started {
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            tracing::info!(
                target: crate::TARGET,
                scope = self.scope.name(),
                kind = "timing",
                "{}: {:.2}ms",
                self.label,
                ms
            );
        }
    }
}
