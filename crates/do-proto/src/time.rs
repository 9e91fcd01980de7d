//! Times on the wire: RFC 3339 in UTC with milliseconds, from the milliseconds since the epoch
//! that the store keeps.

use std::time::{Duration, UNIX_EPOCH};

/// `2024-10-27T18:00:00.000Z`; a time before the epoch is shown as the epoch.
pub fn rfc3339(ms: i64) -> String {
    let time = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_millis(time).to_string()
}
