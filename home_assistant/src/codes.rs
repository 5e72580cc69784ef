//! This crate's error codes (it also passes on the client half's: `gateway::codes`).

use gateway::ErrorCode;

/// Home Assistant refused the access token.
pub const HA_AUTH_FAILED: ErrorCode = ErrorCode::new("HA_AUTH_FAILED");
/// Home Assistant answered a command with `"success": false`, or has no such entity.
pub const HA_COMMAND_FAILED: ErrorCode = ErrorCode::new("HA_COMMAND_FAILED");
/// No subscription has this id in this process.
pub const HA_NO_SUBSCRIPTION: ErrorCode = ErrorCode::new("HA_NO_SUBSCRIPTION");

/// Every code this crate declares.
///
/// ```
/// assert_eq!(home_assistant::codes::ALL.len(), 3);
/// ```
pub const ALL: &[ErrorCode] = &[HA_AUTH_FAILED, HA_COMMAND_FAILED, HA_NO_SUBSCRIPTION];
