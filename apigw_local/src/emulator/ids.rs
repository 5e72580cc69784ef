//! API Gateway's identifiers and times as its events carry them.

use std::time::{SystemTime, UNIX_EPOCH};

/// An id in API Gateway's format (`connectionId`, `requestId`, `messageId`): 16
/// characters, 15 of them base64 letters and digits, ending in `=` (`CJZxdeRljoECIhw=`).
pub(crate) fn aws_id() -> String {
    let mut id: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(15)
        .collect();
    id.push('=');
    id
}

/// Milliseconds since the epoch.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `requestTime`: `09/Feb/2024:18:11:43 +0000`, always UTC.
pub(crate) fn request_time(ms: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:02}/{}/{}:{:02}:{:02}:{:02} +0000",
        at.day(),
        MONTHS[usize::from(u8::from(at.month())) - 1],
        at.year(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_api_gateways_shape() {
        let a = aws_id();
        assert_eq!(a.len(), 16);
        assert!(a.ends_with('='));
        assert!(a[..15].chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, aws_id());
    }

    #[test]
    fn request_time_is_apache_style_utc() {
        // 2024-02-09T18:11:43.123Z
        assert_eq!(
            request_time(1_707_502_303_123),
            "09/Feb/2024:18:11:43 +0000"
        );
        assert_eq!(request_time(0), "01/Jan/1970:00:00:00 +0000");
    }
}
