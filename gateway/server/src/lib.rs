//! The server half's public face, beside the client's under `gateway/`: the `ws_*`
//! functions (`ws_store_connection`, `ws_send_message`, `ws_broadcast_to_room`, ...) and the
//! same envelope as the client's, from the ground floor. Laid out now, filled by the API
//! Gateway issues; it depends on neither `websocket`, `interface` nor the client `gateway`.
//!
//! ```
//! use server_gateway::{Envelope, ErrorCode, Failure};
//! let envelope = Envelope::failure(&Failure::new(ErrorCode::new("NOT_BUILT"), "Not yet."));
//! assert_eq!(envelope.error_code().map(ErrorCode::as_str), Some("NOT_BUILT"));
//! ```
#![deny(missing_docs, missing_debug_implementations)]

pub use contract::{Envelope, ErrorCode, Failure};
pub use server_interface::SCOPE;
