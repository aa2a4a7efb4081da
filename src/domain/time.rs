//! Timestamps (seconds since the Unix epoch, as stored) shown to people, in UTC.

/// `2026-11-22 15:04 UTC`.
pub fn format_utc(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", secs / 3600, secs % 3600 / 60)
}

/// A lifetime in the largest whole unit: `30 days`, `12 hours`, `10 minutes`, `1 second`.
pub fn format_duration(secs: u32) -> String {
    let (n, unit) = [(86_400, "day"), (3_600, "hour"), (60, "minute")]
        .into_iter()
        .find(|(size, _)| secs >= *size && secs.is_multiple_of(*size))
        .map_or((secs, "second"), |(size, unit)| (secs / size, unit));
    if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_the_largest_whole_unit() {
        for (secs, shown) in [
            (43_200, "12 hours"),
            (2_592_000, "30 days"),
            (86_400, "1 day"),
            (600, "10 minutes"),
            (90, "90 seconds"),
            (3_660, "61 minutes"),
            (1, "1 second"),
            (0, "0 seconds"),
        ] {
            assert_eq!(format_duration(secs), shown, "{secs}");
        }
    }

    #[test]
    fn formats() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(format_utc(1_795_361_520), "2026-11-22 15:32 UTC"); // `date -u -d @1795361520`
        assert_eq!(format_utc(4_107_542_399), "2100-02-28 23:59 UTC");
        assert_eq!(format_utc(-1), "1969-12-31 23:59 UTC");
    }
}
