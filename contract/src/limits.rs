//! The size limits of the services both halves answer through.

/// Lambda's limit on a synchronous invocation's response: 6 MB (6 MiB), the envelope
/// included.
pub const LAMBDA_RESPONSE_LIMIT: usize = 6 << 20;

/// API Gateway's limit on one WebSocket message: 128 KB (in frames of at most 32 KB).
pub const API_GATEWAY_MESSAGE_LIMIT: usize = 128 << 10;
