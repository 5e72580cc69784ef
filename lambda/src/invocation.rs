//! One invocation: its request id and the deadline no operation may run past.

use std::time::{Duration, Instant};

/// Time kept in reserve before the invocation's deadline, so the envelope is returned
/// before Lambda stops the process.
pub const SAFETY_MARGIN: Duration = Duration::from_millis(500);

/// The request id and deadline of one invocation.
///
/// ```
/// let local = lambda::Invocation::local();
/// assert!(local.deadline.is_none());
/// assert_eq!(local.budget(), None);
/// ```
#[derive(Debug, Clone)]
pub struct Invocation {
    /// Lambda's request id (generated for local runs).
    pub request_id: String,
    /// The instant the invocation must have answered by, if known.
    pub deadline: Option<Instant>,
}

impl Invocation {
    /// A local run: no deadline.
    pub fn local() -> Invocation {
        Invocation {
            request_id: debug::generate_correlation_id(),
            deadline: None,
        }
    }

    /// An invocation that must answer within `budget` from now.
    ///
    /// ```
    /// let inv = lambda::Invocation::with_budget("req-1", std::time::Duration::from_secs(3));
    /// assert!(inv.budget().unwrap() <= std::time::Duration::from_secs(3));
    /// ```
    pub fn with_budget(request_id: &str, budget: Duration) -> Invocation {
        Invocation {
            request_id: request_id.to_owned(),
            deadline: Some(Instant::now() + budget),
        }
    }

    /// From the Lambda runtime's context (`deadline` in epoch milliseconds).
    ///
    /// ```
    /// let mut ctx = lambda_runtime::Context::default();
    /// ctx.request_id = "abc".into();
    /// ctx.deadline = 3_000; // the emulator's relative form: 3 s
    /// let inv = lambda::Invocation::from_context(&ctx);
    /// assert!(inv.budget().unwrap() <= std::time::Duration::from_secs(3));
    /// ```
    pub fn from_context(ctx: &lambda_runtime::Context) -> Invocation {
        let deadline = contract::invocation_deadline(ctx.deadline);
        Invocation {
            request_id: ctx.request_id.clone(),
            deadline,
        }
    }

    /// Time operations may still use (deadline minus the safety margin); `None` without a
    /// deadline.
    pub fn budget(&self) -> Option<Duration> {
        self.deadline.map(|d| {
            d.saturating_duration_since(Instant::now())
                .saturating_sub(SAFETY_MARGIN)
        })
    }
}
