//! Civil dates from milliseconds since the epoch and back, in the two text
//! forms sessions carry: the HTTP date of a `Set-Cookie` `Expires`
//! (`Date.prototype.toUTCString()`) and the ISO date `JSON.stringify` writes
//! for a cookie's `expires` (`Date.prototype.toISOString()`).

use std::fmt::Write;
use std::ops::Range;

const MS_PER_DAY: i64 = 86_400_000;

/// The largest distance from the epoch a JavaScript `Date` can hold, in ms.
const MAX_DATE_MS: f64 = 8.64e15;

/// The length of an ISO date, `YYYY-MM-DDTHH:MM:SS.sssZ`.
pub const ISO_DATE_LEN: usize = 24;

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`); the inverse of `civil_from_days`.
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Proleptic Gregorian (year, month 1-12, day 1-31) of a day count from 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Appends `Date.prototype.toUTCString()` of `ms`; `None` when `ms` is no valid date.
pub fn write_http_date(ms: f64, out: &mut String) -> Option<()> {
    if !ms.is_finite() || ms.abs() > MAX_DATE_MS {
        return None;
    }
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let ms = ms.trunc() as i64;
    let days = ms.div_euclid(MS_PER_DAY);
    let secs_of_day = ms.rem_euclid(MS_PER_DAY) / 1000;
    let (year, month, day) = civil_from_days(days);
    out.push_str(DAYS[days.rem_euclid(7) as usize]);
    out.push_str(", ");
    push_two_digits(out, day);
    out.push(' ');
    out.push_str(MONTHS[(month - 1) as usize]);
    out.push(' ');
    if year < 0 {
        out.push('-');
    }
    // Four digits at least, as toUTCString pads them.
    let year = year.unsigned_abs();
    if year >= 10_000 {
        write!(out, "{year}").ok()?;
    } else {
        push_two_digits(out, (year / 100) as i64);
        push_two_digits(out, (year % 100) as i64);
    }
    out.push(' ');
    push_two_digits(out, secs_of_day / 3600);
    out.push(':');
    push_two_digits(out, secs_of_day / 60 % 60);
    out.push(':');
    push_two_digits(out, secs_of_day % 60);
    out.push_str(" GMT");
    Some(())
}

fn push_two_digits(out: &mut String, n: i64) {
    out.push(char::from(b'0' + (n / 10 % 10) as u8));
    out.push(char::from(b'0' + (n % 10) as u8));
}

/// Milliseconds of an ISO date (`YYYY-MM-DDTHH:MM:SS.sssZ`, four-digit year)
/// that `write_iso_date` writes back to exactly these bytes; `None` for any
/// other text, so that a date read this way is never written differently.
pub fn parse_iso_date(text: &[u8]) -> Option<i64> {
    if text.len() != ISO_DATE_LEN {
        return None;
    }
    let digits = |range: Range<usize>| -> Option<i64> {
        text[range].iter().try_fold(0i64, |n, &b| {
            b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0'))
        })
    };
    let year = digits(0..4)?;
    let month = digits(5..7)?;
    let day = digits(8..10)?;
    let hours = digits(11..13)?;
    let minutes = digits(14..16)?;
    let seconds = digits(17..19)?;
    let millis = digits(20..23)?;
    let separators = [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (23, b'Z'),
    ];
    let in_range = (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hours < 24
        && minutes < 60
        && seconds < 60;
    if !in_range || separators.iter().any(|&(at, b)| text[at] != b) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + hours) * 60 + minutes) * 60_000 + seconds * 1000 + millis)
}

/// Appends `Date.prototype.toISOString()` of `ms`, for years 0 to 9999 (the
/// four-digit years; others would need the extended form and are not written).
pub fn write_iso_date(ms: i64, out: &mut Vec<u8>) {
    let days = ms.div_euclid(MS_PER_DAY);
    let in_day = ms.rem_euclid(MS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    push_digits(out, year, 4);
    out.push(b'-');
    push_digits(out, month, 2);
    out.push(b'-');
    push_digits(out, day, 2);
    out.push(b'T');
    push_digits(out, in_day / 3_600_000, 2);
    out.push(b':');
    push_digits(out, in_day / 60_000 % 60, 2);
    out.push(b':');
    push_digits(out, in_day / 1000 % 60, 2);
    out.push(b'.');
    push_digits(out, in_day % 1000, 3);
    out.push(b'Z');
}

/// `value` in `width` digits (at most four), zero-padded.
fn push_digits(out: &mut Vec<u8>, value: i64, width: u32) {
    let mut digits = [b'0'; 4];
    let mut rest = value.clamp(0, 9999);
    for digit in digits.iter_mut().rev() {
        *digit = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    out.extend_from_slice(&digits[4 - width as usize..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http_date(ms: f64) -> Option<String> {
        let mut out = String::new();
        write_http_date(ms, &mut out).map(|_| out)
    }

    #[test]
    fn formats_dates_like_to_utc_string() {
        // Expected strings from `new Date(ms).toUTCString()` in Node.js 20.
        let cases = [
            (0.0, "Thu, 01 Jan 1970 00:00:00 GMT"),
            (-1.0, "Wed, 31 Dec 1969 23:59:59 GMT"),
            (-62198755200000.0, "Fri, 01 Jan -0001 00:00:00 GMT"),
            (-62198755200001.0, "Thu, 31 Dec -0002 23:59:59 GMT"),
            (-62135596800000.0, "Mon, 01 Jan 0001 00:00:00 GMT"),
            (253402300799999.0, "Fri, 31 Dec 9999 23:59:59 GMT"),
            (253402300800000.0, "Sat, 01 Jan 10000 00:00:00 GMT"),
            (8.64e15, "Sat, 13 Sep 275760 00:00:00 GMT"),
            (-8.64e15, "Tue, 20 Apr -271821 00:00:00 GMT"),
            (1000000000000.7, "Sun, 09 Sep 2001 01:46:40 GMT"),
        ];
        for (ms, expected) in cases {
            assert_eq!(http_date(ms).as_deref(), Some(expected), "{ms}");
        }
    }

    #[test]
    fn rejects_invalid_http_dates() {
        assert_eq!(http_date(f64::NAN), None);
        assert_eq!(http_date(f64::INFINITY), None);
        assert_eq!(http_date(8.64e15 + 1.0), None);
    }

    #[test]
    fn iso_dates_read_and_write_like_to_iso_string() {
        // Expected strings from `new Date(ms).toISOString()`.
        let cases = [
            (0, "1970-01-01T00:00:00.000Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
            (1_900_000_000_123, "2030-03-17T17:46:40.123Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
            (-62_167_219_200_000, "0000-01-01T00:00:00.000Z"),
        ];
        for (ms, text) in cases {
            let mut out = Vec::new();
            write_iso_date(ms, &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), text);
            assert_eq!(parse_iso_date(text.as_bytes()), Some(ms), "{text}");
        }
    }

    #[test]
    fn iso_dates_that_would_not_write_back_the_same_are_refused() {
        for text in [
            "2026-02-29T00:00:00.000Z",
            "2026-13-01T00:00:00.000Z",
            "2026-00-01T00:00:00.000Z",
            "2026-01-00T00:00:00.000Z",
            "2026-01-01T24:00:00.000Z",
            "2026-01-01T00:60:00.000Z",
            "2026-01-01T00:00:60.000Z",
            "2026-01-01T00:00:00.000",
            "2026-01-01 00:00:00.000Z",
            "+2026-01-01T00:00:00.000Z",
            "2026-1-01T00:00:00.000Z",
        ] {
            assert_eq!(parse_iso_date(text.as_bytes()), None, "{text}");
        }
    }

    #[test]
    fn civil_days_round_trip() {
        for days in (-800_000..800_000).step_by(997) {
            let (year, month, day) = civil_from_days(days);
            assert_eq!(days_from_civil(year, month, day), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }
}
