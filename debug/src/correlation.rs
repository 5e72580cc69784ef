//! Correlation ids.

/// Length of a generated correlation id.
pub const CORRELATION_ID_LEN: usize = 13;

/// A short id for one logical request: the first 13 characters of a random UUID v4
/// (`xxxxxxxx-xxxx`, 48 random bits).
///
/// ```
/// let id = debug::generate_correlation_id();
/// assert_eq!(id.len(), debug::CORRELATION_ID_LEN);
/// assert_ne!(id, debug::generate_correlation_id());
/// ```
pub fn generate_correlation_id() -> String {
    let mut buf = uuid::Uuid::encode_buffer();
    let full = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
    full[..CORRELATION_ID_LEN].to_owned()
}
