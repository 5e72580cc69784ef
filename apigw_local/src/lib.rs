//! API Gateway's WebSocket side on a laptop. This part: the Management API
//! (`/{stage}/@connections/{id}`) on 127.0.0.1, answering as API Gateway does — `POST` 200,
//! `GET` 200 with `{connectedAt, lastActiveAt, identity}`, `DELETE` 204; 410
//! `GoneException` for closed and unknown ids; 413 `PayloadTooLargeException` over 128 KB;
//! 403 `ForbiddenException` when the stage is missing from the path; 429 and 500s on
//! demand, and a delay per call. The real SDK reaches it, SigV4-signed with dummy
//! credentials.
//!
//! ```no_run
//! let endpoint = apigw_local::ManagementApi::start("local").unwrap();
//! endpoint.connect("L0SM9cOFvHcCIhw=");
//! println!("{}", endpoint.url()); // http://127.0.0.1:PORT/local
//! ```
#![deny(missing_docs, missing_debug_implementations)]

mod management;

pub use management::{Fault, ManagementApi, Posted, MESSAGE_LIMIT};
