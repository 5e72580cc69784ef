//! The server half's error codes (beside the ground floor's `contract::codes`).

use contract::ErrorCode;

/// The event is not an API Gateway WebSocket event (no `requestContext`, no connection id,
/// no route key), or not JSON.
pub const APIGW_EVENT_INVALID: ErrorCode = ErrorCode::new("APIGW_EVENT_INVALID");
/// The event names a route no handler serves (and there is no `$default`).
pub const APIGW_UNKNOWN_ROUTE: ErrorCode = ErrorCode::new("APIGW_UNKNOWN_ROUTE");
/// No live connection has this id (never stored, deleted, or expired).
pub const APIGW_NO_CONNECTION: ErrorCode = ErrorCode::new("APIGW_NO_CONNECTION");
/// A bound of the store was reached (rooms per connection).
pub const APIGW_LIMIT_EXCEEDED: ErrorCode = ErrorCode::new("APIGW_LIMIT_EXCEEDED");
/// DynamoDB refused or failed a request (throttled, unreachable, a missing table).
pub const APIGW_STORE_FAILED: ErrorCode = ErrorCode::new("APIGW_STORE_FAILED");
/// The app was asked to send to other connections but has no Management API.
pub const APIGW_NOT_CONFIGURED: ErrorCode = ErrorCode::new("APIGW_NOT_CONFIGURED");
/// `$connect` (or a management request) carried no credential that verifies: 401.
pub const APIGW_UNAUTHORIZED: ErrorCode = ErrorCode::new("APIGW_UNAUTHORIZED");
/// Authenticated, but not allowed (an origin, a scope, the per-user limit): 403.
pub const APIGW_FORBIDDEN: ErrorCode = ErrorCode::new("APIGW_FORBIDDEN");

/// Every code this crate declares.
///
/// ```
/// assert_eq!(apigateway::codes::ALL.len(), 8);
/// ```
pub const ALL: &[ErrorCode] = &[
    APIGW_EVENT_INVALID,
    APIGW_UNKNOWN_ROUTE,
    APIGW_NO_CONNECTION,
    APIGW_LIMIT_EXCEEDED,
    APIGW_STORE_FAILED,
    APIGW_NOT_CONFIGURED,
    APIGW_UNAUTHORIZED,
    APIGW_FORBIDDEN,
];
