//! The Lambda function: a stable JSON event contract over the WebSocket gateway and the
//! Home Assistant client, run by `lambda_runtime` or locally (`invoke`).
//!
//! ```no_run
//! use serde_json::json;
//! let function = lambda::Function::from_env();
//! let event = json!({"operation": "request", "url": "ws://127.0.0.1:8765", "message": {"hello": "lambda"}, "timeout": 5});
//! let envelope = function.handle(event, &lambda::Invocation::with_budget("req-1", std::time::Duration::from_secs(3)));
//! assert_eq!(envelope["data"]["correlation_id"], "req-1");
//! ```
#![deny(missing_docs, missing_debug_implementations)]

mod event;
mod handler;
mod invocation;

pub use event::{
    all_operations, CallServiceParams, CommandParams, GetStateParams, HaOperation,
    NextEventsParams, RegistryParams, RenderTemplateParams, SubscribeEntitiesParams,
    SubscribeEventsParams, SubscribeTriggerParams, SubscriptionParams, HA_OPERATIONS,
    MAX_EVENTS_PER_READ, WEBSOCKET_OPERATIONS,
};
pub use gateway::LAMBDA_RESPONSE_LIMIT;
pub use handler::Function;
pub use invocation::{Invocation, SAFETY_MARGIN};

use lambda_runtime::LambdaEvent;
use serde_json::Value;

/// This layer's debug switches: `LAMBDA_DEBUG_MODE`, `LAMBDA_DEBUG_TIMING`.
pub static SCOPE: debug::Scope = debug::Scope::new("LAMBDA");

/// Timeout when an event gives none.
pub const DEFAULT_TIMEOUT: std::time::Duration = gateway::DEFAULT_TIMEOUT;

/// Handles one event with [`Function::from_env`].
///
/// ```
/// let envelope = lambda::handle(serde_json::json!({"operation": "get_stats"}), &lambda::Invocation::local());
/// assert_eq!(envelope["success"], true);
/// ```
pub fn handle(event: Value, invocation: &Invocation) -> Value {
    Function::from_env().handle(event, invocation)
}

/// The event as the runtime hands it over: its JSON text, read later into exactly the
/// operation it asks for (no tree of a large message is ever built).
pub type RawEvent = Box<serde_json::value::RawValue>;

/// Runs one `lambda_runtime` invocation on `function`: the handler blocks, so it runs on a
/// blocking thread that enters the invocation's span.
///
/// ```no_run
/// # async fn run() -> Result<(), lambda_runtime::Error> {
/// let function = lambda::Function::from_env();
/// lambda_runtime::run(lambda_runtime::service_fn(move |event| {
///     lambda::invoke(function.clone(), event)
/// })).await
/// # }
/// ```
pub async fn invoke(
    function: Function,
    event: LambdaEvent<RawEvent>,
) -> Result<gateway::Envelope, lambda_runtime::Error> {
    let (payload, context) = event.into_parts();
    let invocation = Invocation::from_context(&context);
    let span = tracing::Span::current();
    let envelope = tokio::task::spawn_blocking(move || {
        span.in_scope(|| function.answer(payload.get(), &invocation))
    })
    .await?;
    Ok(envelope)
}
