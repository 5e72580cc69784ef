//! The ground floor the client half (`gateway` → `interface` → `websocket`) and the server
//! half (`server_gateway` → `server_interface` → `apigateway`) share, and nothing else of
//! either: the JSON envelope every answer takes and the failure inside it, error codes as
//! an open set (each crate declares its own), Lambda's and API Gateway's size limits, one
//! deadline type, the sliding-window rate limiter and the registry of process singletons.
//!
//! ```
//! use contract::{codes, Envelope, Failure};
//!
//! let ok = Envelope::success("Done", &serde_json::json!({"n": 1}));
//! assert_eq!(ok.as_str(), r#"{"success":true,"message":"Done","data":{"n":1}}"#);
//!
//! let failed = Envelope::failure(&Failure::new(codes::INVALID_PARAMETER, "Bad.").with_detail("parameter", "url"));
//! assert_eq!(failed.error_code(), Some(codes::INVALID_PARAMETER));
//! ```
#![deny(missing_docs, missing_debug_implementations)]

mod code;
mod deadline;
mod envelope;
mod failure;
mod limits;
mod rate_limit;
mod singletons;

pub use crate::code::{codes, ErrorCode};
pub use crate::deadline::{invocation_deadline, Clock, Deadline, SystemClock};
pub use crate::envelope::Envelope;
pub use crate::failure::Failure;
pub use crate::limits::{API_GATEWAY_MESSAGE_LIMIT, LAMBDA_RESPONSE_LIMIT};
pub use crate::rate_limit::RateLimiter;
pub use crate::singletons::{singleton_get, singleton_register, Singleton};
