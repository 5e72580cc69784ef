//! Time left before a deadline, with a clock tests can replace.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where "now" comes from. The system's monotonic clock unless a test gives its own.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// The system's monotonic clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// One operation's deadline and the budget it came from (reported in timeout errors):
/// "time left", cut to a smaller budget when a step may take only part of it.
///
/// ```
/// use std::time::Duration;
/// let deadline = contract::Deadline::after(Duration::from_secs(10));
/// assert!(deadline.left() <= Duration::from_secs(10));
/// let step = deadline.cut_to(Duration::from_secs(2));
/// assert!(step.left() <= Duration::from_secs(2));
/// assert!(step.at() <= deadline.at());
/// assert!(!deadline.expired());
/// ```
#[derive(Debug, Clone)]
pub struct Deadline {
    at: Instant,
    budget: Duration,
    /// `None`: the system clock — every send and receive makes a deadline, so the common
    /// case allocates nothing.
    clock: Option<Arc<dyn Clock>>,
}

impl Deadline {
    /// `budget` from now, on the system clock.
    pub fn after(budget: Duration) -> Deadline {
        Deadline::starting(budget, None)
    }

    /// `budget` from now on `clock`.
    pub fn after_on(budget: Duration, clock: Arc<dyn Clock>) -> Deadline {
        Deadline::starting(budget, Some(clock))
    }

    fn starting(budget: Duration, clock: Option<Arc<dyn Clock>>) -> Deadline {
        let now = now_on(&clock);
        Deadline {
            at: now.checked_add(budget).unwrap_or(now),
            budget,
            clock,
        }
    }

    /// The instant it falls at.
    pub fn at(&self) -> Instant {
        self.at
    }

    /// The budget it was made with (what a timeout reports).
    pub fn budget(&self) -> Duration {
        self.budget
    }

    /// Time left; zero once passed.
    pub fn left(&self) -> Duration {
        self.at.saturating_duration_since(now_on(&self.clock))
    }

    /// Whether it has passed.
    pub fn expired(&self) -> bool {
        self.left().is_zero()
    }

    /// This deadline, falling no later than `at_most` from now; its budget is what is left.
    pub fn cut_to(&self, at_most: Duration) -> Deadline {
        let now = now_on(&self.clock);
        let at = self.at.min(now.checked_add(at_most).unwrap_or(now));
        Deadline {
            at,
            budget: at.saturating_duration_since(now),
            clock: self.clock.clone(),
        }
    }
}

/// Now, on `clock` or the system's.
fn now_on(clock: &Option<Arc<dyn Clock>>) -> Instant {
    match clock {
        Some(clock) => clock.now(),
        None => Instant::now(),
    }
}

/// Deadlines below this many epoch milliseconds (1 January 2001) are budgets relative to the
/// invocation's start: cargo-lambda's emulator sends the function timeout there (600000 for
/// its 10 minutes), not a time.
const RELATIVE_DEADLINE_BELOW_MS: u64 = 978_307_200_000;

/// The instant a Lambda invocation must have answered by, from the runtime's
/// `Lambda-Runtime-Deadline-Ms` (`lambda_runtime::Context::deadline`): epoch milliseconds
/// on Lambda, a relative budget under cargo-lambda, `None` for 0 (no deadline). Both
/// functions read it so, so neither takes the emulator's budget for a time long past.
///
/// ```
/// use std::time::{Duration, Instant};
/// let relative = contract::invocation_deadline(3_000).unwrap();
/// assert!(relative <= Instant::now() + Duration::from_secs(3));
/// assert!(relative > Instant::now() + Duration::from_secs(2));
/// assert_eq!(contract::invocation_deadline(0), None);
/// ```
pub fn invocation_deadline(deadline_ms: u64) -> Option<Instant> {
    let now = Instant::now();
    if deadline_ms == 0 {
        None
    } else if deadline_ms < RELATIVE_DEADLINE_BELOW_MS {
        Some(now + Duration::from_millis(deadline_ms))
    } else {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        Some(now + Duration::from_millis(deadline_ms.saturating_sub(now_ms)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parking_lot::Mutex;

    #[derive(Debug)]
    struct Manual(Mutex<Instant>);

    impl Clock for Manual {
        fn now(&self) -> Instant {
            *self.0.lock()
        }
    }

    #[test]
    fn a_test_clock_moves_the_deadline_without_sleeping() {
        let start = Instant::now();
        let clock = Arc::new(Manual(Mutex::new(start)));
        let deadline = Deadline::after_on(Duration::from_secs(10), clock.clone());
        assert_eq!(deadline.left(), Duration::from_secs(10));
        *clock.0.lock() = start + Duration::from_secs(7);
        assert_eq!(deadline.left(), Duration::from_secs(3));
        let step = deadline.cut_to(Duration::from_secs(5));
        assert_eq!(step.left(), Duration::from_secs(3));
        assert_eq!(step.budget(), Duration::from_secs(3));
        *clock.0.lock() = start + Duration::from_secs(11);
        assert!(deadline.expired());
        assert_eq!(deadline.budget(), Duration::from_secs(10));
    }
}
