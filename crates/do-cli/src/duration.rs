//! The one way the CLI writes a duration for people: `57 ms`, `1.2 s`, `3 min 4 s`,
//! `2 h 5 min`, `3 d 4 h`. (The status document keeps the API's own form, "20.5 hours".)

use std::time::Duration;

/// `d` in the largest units that matter, at most two of them.
pub(crate) fn human(d: Duration) -> String {
    let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    if ms < 1000 {
        return format!("{ms} ms");
    }
    let tenths = (ms + 50) / 100;
    if tenths < 600 {
        return format!("{}.{} s", tenths / 10, tenths % 10);
    }
    let seconds = (ms + 500) / 1000;
    if seconds < 3600 {
        return two_units(seconds / 60, "min", seconds % 60, "s");
    }
    let minutes = (seconds + 30) / 60;
    if minutes < 24 * 60 {
        return two_units(minutes / 60, "h", minutes % 60, "min");
    }
    let hours = (minutes + 30) / 60;
    two_units(hours / 24, "d", hours % 24, "h")
}

/// [`human`] of a number of milliseconds (the status document's `durationMs`).
pub(crate) fn human_ms(ms: u64) -> String {
    human(Duration::from_millis(ms))
}

/// `3 min 4 s`, or `3 min` when the smaller unit is zero.
fn two_units(big: u64, big_unit: &str, small: u64, small_unit: &str) -> String {
    if small == 0 {
        format!("{big} {big_unit}")
    } else {
        format!("{big} {big_unit} {small} {small_unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> String {
        human_ms(n)
    }

    #[test]
    fn each_range_has_its_units() {
        assert_eq!(ms(0), "0 ms");
        assert_eq!(ms(57), "57 ms");
        assert_eq!(ms(999), "999 ms");
        assert_eq!(ms(1_000), "1.0 s");
        assert_eq!(ms(1_234), "1.2 s");
        assert_eq!(ms(42_000), "42.0 s");
        assert_eq!(ms(184_000), "3 min 4 s");
        assert_eq!(ms(180_000), "3 min");
        assert_eq!(ms(7_500_000), "2 h 5 min");
        assert_eq!(ms(7_200_000), "2 h");
        assert_eq!(ms(100 * 3_600_000), "4 d 4 h");
    }

    #[test]
    fn rounding_never_shows_sixty_of_a_unit() {
        assert_eq!(ms(59_960), "1 min");
        assert_eq!(ms(3_599_600), "1 h");
        assert_eq!(ms(86_399_000), "1 d");
    }
}
