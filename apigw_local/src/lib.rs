//! API Gateway's WebSocket side on a laptop, faithful to AWS:
//!
//! * [`Emulator`]: a WebSocket server on 127.0.0.1 that turns connections and frames into
//!   API Gateway's `$connect`, message and `$disconnect` events for any [`Function`] — in
//!   this process, or over the Lambda Invoke API ([`InvokeApi`], as `cargo lambda watch`
//!   serves it) — with AWS's routing, limits, close codes and error messages, and the
//!   Management API on the same port (the `apigw-local` command runs it);
//! * [`ManagementApi`]: the Management API alone (`/{stage}/@connections/{id}`), answering
//!   as API Gateway does — `POST` 200, `GET` 200 with `{connectedAt, lastActiveAt,
//!   identity}`, `DELETE` 204; 410 `GoneException` for closed and unknown ids; 413
//!   `PayloadTooLargeException` over 128 KB; 403 `ForbiddenException` when the stage is
//!   missing from the path; 429 and 500s on demand, and a delay per call. The real SDK
//!   reaches both, SigV4-signed with dummy credentials.
//!
//! ```no_run
//! let endpoint = apigw_local::ManagementApi::start("local").unwrap();
//! endpoint.connect("L0SM9cOFvHcCIhw=");
//! println!("{}", endpoint.url()); // http://127.0.0.1:PORT/local
//! ```
#![deny(missing_docs, missing_debug_implementations)]

mod emulator;
mod management;

pub use emulator::{
    Bound, Emulator, Function, FunctionError, Functions, Invocation, InvokeApi, RouteSelection,
    Routes, Settings, ANSWER_LIMIT, DEFAULT_CONCURRENCY, DEFAULT_ROUTE, FRAME_LIMIT,
    HEADER_READ_TIMEOUT, URL_LIMIT,
};
pub use management::{Fault, ManagementApi, Posted, MESSAGE_LIMIT};
