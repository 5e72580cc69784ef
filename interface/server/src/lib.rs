//! The server half's typed operations, on the same floor as the client's `interface`: each
//! `ws_*` operation read once from its JSON and validated by its types, run on the
//! `apigateway` implementation. Laid out now, filled by the API Gateway issues.
//!
//! ```
//! assert_eq!(server_interface::SCOPE.name(), "APIGW");
//! ```
#![deny(missing_docs, missing_debug_implementations)]

pub use apigateway::SCOPE;
