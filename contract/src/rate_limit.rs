//! The sliding-window rate limiter.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Admits at most `max` operations in any window of length `window`.
///
/// ```
/// use std::time::{Duration, Instant};
/// let mut limiter = contract::RateLimiter::new(2, Duration::from_millis(1000));
/// let t = Instant::now();
/// assert!(limiter.try_acquire(t));
/// assert!(limiter.try_acquire(t));
/// assert!(!limiter.try_acquire(t));
/// assert!(limiter.try_acquire(t + Duration::from_millis(1001)));
/// ```
#[derive(Debug, Clone)]
pub struct RateLimiter {
    max: usize,
    window: Duration,
    admitted: VecDeque<Instant>,
}

impl RateLimiter {
    /// A limiter of `max` operations per `window`.
    pub fn new(max: usize, window: Duration) -> Self {
        RateLimiter {
            max,
            window,
            admitted: VecDeque::with_capacity(max.min(4096)),
        }
    }

    fn prune(&mut self, now: Instant) {
        while let Some(&oldest) = self.admitted.front() {
            if now.saturating_duration_since(oldest) >= self.window {
                self.admitted.pop_front();
            } else {
                break;
            }
        }
    }

    /// Admits one operation at `now` if the window has room. A limiter of `usize::MAX`
    /// operations admits everything and remembers nothing.
    pub fn try_acquire(&mut self, now: Instant) -> bool {
        if self.max == usize::MAX {
            return true;
        }
        self.prune(now);
        if self.admitted.len() >= self.max {
            return false;
        }
        self.admitted.push_back(now);
        true
    }

    /// Operations admitted in the window ending at `now`.
    pub fn current_size(&mut self, now: Instant) -> usize {
        self.prune(now);
        self.admitted.len()
    }

    /// The window's length.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// The most operations admitted per window.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Forgets every admitted operation.
    pub fn clear(&mut self) {
        self.admitted.clear();
    }
}
