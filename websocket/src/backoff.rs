//! The waits between reconnect attempts: exponential, with jitter, bounded in count and by
//! a deadline — a pure schedule, so tests drive it with a clock of their own.

use std::time::{Duration, Instant};

use crate::connection_config::Reconnect;

/// The schedule of one reconnect: the first attempt at once, then waits of
/// `backoff_base × 2^(n−1)` (at most `backoff_max`), each moved by up to ± `jitter` of
/// itself at random; no attempt past `max_attempts` (0: no bound) and no wait that would
/// end after the deadline.
///
/// ```
/// use std::time::{Duration, Instant};
/// use websocket::{Backoff, Reconnect};
/// let now = Instant::now();
/// let deadline = now + Duration::from_secs(10);
/// // No jitter: 0, 1, 2, 4 s; the next (8 s) would end past the deadline.
/// let mut backoff = Backoff::with_random(Reconnect::default().jitter(0.0), || 0.5);
/// let mut at = now;
/// let mut waits = Vec::new();
/// while let Some(wait) = backoff.next_wait(at, deadline) {
///     waits.push(wait.as_secs());
///     at += wait;
/// }
/// assert_eq!(waits, [0, 1, 2, 4]);
/// ```
pub struct Backoff {
    policy: Reconnect,
    attempts: u32,
    random: Box<dyn FnMut() -> f64 + Send>,
}

impl std::fmt::Debug for Backoff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backoff")
            .field("policy", &self.policy)
            .field("attempts", &self.attempts)
            .finish()
    }
}

impl Backoff {
    /// The schedule of `policy`, its jitter drawn from a fast non-cryptographic generator.
    pub fn new(policy: Reconnect) -> Backoff {
        Backoff::with_random(policy, fastrand::f64)
    }

    /// The schedule of `policy` with `random` (values in [0, 1)) for the jitter.
    pub fn with_random(policy: Reconnect, random: impl FnMut() -> f64 + Send + 'static) -> Backoff {
        Backoff {
            policy,
            attempts: 0,
            random: Box::new(random),
        }
    }

    /// Attempts scheduled so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The wait before the next attempt, counted as made; `None` when reconnecting is off,
    /// the attempts are spent, or the wait would end after `deadline` (as seen at `now`).
    pub fn next_wait(&mut self, now: Instant, deadline: Instant) -> Option<Duration> {
        if !self.policy.enabled {
            return None;
        }
        if self.policy.max_attempts != 0 && self.attempts >= self.policy.max_attempts {
            return None;
        }
        let wait = if self.attempts == 0 {
            Duration::ZERO
        } else {
            let nominal = self.policy.backoff_before(self.attempts - 1).as_secs_f64();
            let jitter = self.policy.jitter.clamp(0.0, 1.0);
            let r = (self.random)().clamp(0.0, 1.0);
            Duration::from_secs_f64((nominal * (1.0 + jitter * (2.0 * r - 1.0))).max(0.0))
        };
        if now.checked_add(wait).is_none_or(|end| end >= deadline) {
            return None;
        }
        self.attempts += 1;
        Some(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waits(mut backoff: Backoff, span: Duration) -> Vec<f64> {
        // A clock of our own: time moves only by the waits.
        let start = Instant::now();
        let deadline = start + span;
        let mut now = start;
        let mut out = Vec::new();
        while let Some(wait) = backoff.next_wait(now, deadline) {
            out.push(wait.as_secs_f64());
            now += wait;
        }
        out
    }

    #[test]
    fn doubles_up_to_the_longest_wait() {
        let policy = Reconnect::default()
            .jitter(0.0)
            .max_attempts(8)
            .backoff(Duration::from_secs(1), Duration::from_secs(5));
        let got = waits(
            Backoff::with_random(policy, || 0.0),
            Duration::from_secs(3600),
        );
        assert_eq!(got, [0.0, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0, 5.0]);
    }

    #[test]
    fn jitter_moves_each_wait_by_at_most_its_fraction() {
        let policy = Reconnect::default().jitter(0.1).max_attempts(4);
        let low = waits(
            Backoff::with_random(policy, || 0.0),
            Duration::from_secs(3600),
        );
        let high = waits(
            Backoff::with_random(policy, || 0.999_999),
            Duration::from_secs(3600),
        );
        for (n, (l, h)) in low.iter().zip(&high).enumerate().skip(1) {
            let nominal = 2f64.powi(n as i32 - 1);
            assert!((l - nominal * 0.9).abs() < 1e-6, "{l}");
            assert!((h - nominal * 1.1).abs() < 1e-5, "{h}");
        }
    }

    #[test]
    fn never_past_the_deadline_nor_the_attempts() {
        let policy = Reconnect::default().jitter(0.0).max_attempts(0);
        // Unbounded attempts, a 10 s deadline: 0 + 1 + 2 + 4 = 7 s, the 8 s wait would end past it.
        assert_eq!(
            waits(
                Backoff::with_random(policy, || 0.5),
                Duration::from_secs(10)
            ),
            [0.0, 1.0, 2.0, 4.0]
        );
        let three = Reconnect::default().jitter(0.0).max_attempts(3);
        assert_eq!(
            waits(
                Backoff::with_random(three, || 0.5),
                Duration::from_secs(3600)
            ),
            [0.0, 1.0, 2.0]
        );
        // No time at all: not even the first attempt.
        assert!(waits(Backoff::with_random(three, || 0.5), Duration::ZERO).is_empty());
        assert!(waits(Backoff::new(Reconnect::disabled()), Duration::from_secs(60)).is_empty());
    }
}
