//! The server half's typed operations, on the same floor as the client's `interface`: what
//! the built-in app reads from a frame and writes back, each read once and validated by its
//! types, run on the `apigateway` implementation.
//!
//! ```
//! use server_interface::{AppRequest, RoomId};
//! let r = AppRequest::parse(r#"{"type":"subscribe_room","data":{"room_id":1}}"#).unwrap();
//! assert_eq!(r, AppRequest::SubscribeRoom(RoomId::new("1").unwrap()));
//! ```
#![deny(missing_docs, missing_debug_implementations)]

mod admin;
mod app;
mod time;

pub use admin::{heartbeat_frame, stats_data, AdminBroadcast, MAX_TYPE_LEN};
pub use apigateway::SCOPE;
pub use app::{error_frame, frame, AppRequest, RoomId};
pub use time::rfc3339;
