//! Timestamps of the built-in app's frames: RFC 3339, UTC, milliseconds.

use std::time::{SystemTime, UNIX_EPOCH};

/// `epoch_ms` as RFC 3339 in UTC with milliseconds (`2026-12-02T02:00:00.123Z`); now when
/// `None`.
///
/// ```
/// assert_eq!(server_interface::rfc3339(Some(1_795_305_600_123)), "2026-11-22T00:00:00.123Z");
/// ```
pub fn rfc3339(epoch_ms: Option<i64>) -> String {
    let ms = epoch_ms.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    });
    let Ok(at) = ::time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
    else {
        return "1970-01-01T00:00:00.000Z".to_owned();
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}
