//! The Lambda function: a stable JSON event contract over the WebSocket gateway and the
//! Home Assistant client, run by `lambda_runtime` or locally (`invoke`, `demo`).
//!
//! ```
//! use serde_json::json;
//! let echo = peers::echo().unwrap();
//! let event = json!({"operation": "request", "url": echo.url(), "message": {"hello": "lambda"}, "timeout": 5});
//! let envelope = lambda::handle(&event, &lambda::Invocation::with_budget("req-1", std::time::Duration::from_secs(3)));
//! assert_eq!(envelope["data"]["response"], json!({"hello": "lambda"}));
//! assert_eq!(envelope["data"]["correlation_id"], "req-1");
//! ```
#![deny(missing_docs, missing_debug_implementations)]

pub mod demo;
mod handler;
mod invocation;

pub use handler::{handle, handle_text, DEFAULT_TIMEOUT, HA_OPERATIONS, WEBSOCKET_OPERATIONS};
pub use invocation::{Invocation, SAFETY_MARGIN};

use lambda_runtime::LambdaEvent;
use serde_json::Value;

/// The `lambda_runtime` handler: runs [`handle`] on a blocking thread, since the gateway's
/// calls block.
///
/// ```no_run
/// # async fn run() -> Result<(), lambda_runtime::Error> {
/// lambda_runtime::run(lambda_runtime::service_fn(lambda::function_handler)).await
/// # }
/// ```
pub async fn function_handler(event: LambdaEvent<Value>) -> Result<Value, lambda_runtime::Error> {
    let (payload, context) = event.into_parts();
    let invocation = Invocation::from_context(&context);
    let envelope = tokio::task::spawn_blocking(move || handle(&payload, &invocation)).await?;
    Ok(envelope)
}
