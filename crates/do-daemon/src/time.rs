//! Wall-clock times as stored (milliseconds since the epoch) and as shown (RFC 3339, "2.5 hours").

use std::time::{SystemTime, UNIX_EPOCH};

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

pub(crate) use do_proto::time::rfc3339;

/// The API writes durations for people: "20.5 hours".
pub(crate) fn human_duration(ms: u64) -> String {
    if ms < 1000 {
        return format!("{ms} ms");
    }
    let seconds = ms as f64 / 1000.0;
    let (value, unit) = if seconds < 60.0 {
        (seconds, "seconds")
    } else if seconds < 3600.0 {
        (seconds / 60.0, "minutes")
    } else if seconds < 172_800.0 {
        (seconds / 3600.0, "hours")
    } else {
        (seconds / 86_400.0, "days")
    };
    let text = format!("{value:.1}");
    let text = text.strip_suffix(".0").unwrap_or(&text);
    let unit = if text == "1" {
        &unit[..unit.len() - 1]
    } else {
        unit
    };
    format!("{text} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_the_api() {
        assert_eq!(human_duration(73_800_000), "20.5 hours");
        assert_eq!(human_duration(91_800_000), "25.5 hours");
        assert_eq!(human_duration(1_000), "1 second");
        assert_eq!(human_duration(250), "250 ms");
        assert_eq!(human_duration(1_250), "1.2 seconds");
        assert_eq!(human_duration(90_000), "1.5 minutes");
        assert_eq!(human_duration(3 * 86_400_000), "3 days");
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(1_730_052_000_000), "2024-10-27T18:00:00.000Z");
    }
}
