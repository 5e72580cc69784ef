//! The interface router: one typed [`Operation`] per WebSocket operation, a JSON entry point
//! ([`execute`]) that validates parameters and dispatches, and typed results ([`Outcome`]).
//!
//! ```no_run
//! let outcome = interface::execute(
//!     "request",
//!     serde_json::json!({"url": "ws://127.0.0.1:8765", "message": {"type": "ping"}, "timeout": 5}),
//! )?;
//! println!("{}", serde_json::to_string(&outcome)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs, missing_debug_implementations)]

mod operation;
mod outcome;
mod params;
mod router;

pub use params::correlation_id;

pub use operation::{Operation, OPERATION_NAMES};
pub use outcome::{Closed, Connected, Outcome, Received, Reply, ResetDone, Response, Sent};
pub use router::{close, connect, execute, get_stats, receive, request, reset, route, send};
