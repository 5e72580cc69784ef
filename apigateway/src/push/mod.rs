//! Pushing to connections through API Gateway's Management API: one client per endpoint
//! and container, the SDK's own retries off, and one retry rule that never sends twice.

mod broadcast;
mod endpoint;
mod send;

pub use broadcast::{Audience, BroadcastReport, DEFAULT_CONCURRENCY};
pub use endpoint::{management_endpoint, ENDPOINT_VARIABLE};
pub use send::{Management, Outcome, RetryRule};
mod heartbeat;
pub use heartbeat::{HeartbeatReport, HEARTBEAT_CURSOR};
