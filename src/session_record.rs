//! A stored session in one allocation, about half the size of its JSON.
//!
//! A record is `varint(id length) id varint(a) varint(b) prefix cookie rest`,
//! where the session's JSON text is `prefix + cookie + rest` split around the
//! value of its top-level `cookie` member, each part packed on its own (`a` and
//! `b` are the packed lengths of the first two). Keeping the cookie apart lets a
//! touch replace it without reading the rest.
//!
//! Packing replaces what every express-session cookie repeats with one byte:
//! the member names and usual values of the cookie, and ISO dates (24 characters
//! in quotes become a marker and six bytes of milliseconds). It is lossless for
//! any text; text that holds raw control bytes, which JSON.stringify never
//! writes and which the markers use, is kept as it is behind a marker of its own.

use std::ops::Range;

use crate::set_cookie::{civil_from_days, days_from_civil};

/// Byte values below 0x20 mark substitutions; 0x01..=TOKENS.len() are these.
const TOKENS: &[&[u8]] = &[
    b"{\"cookie\":",
    b"{\"originalMaxAge\":",
    b",\"expires\":",
    b",\"secure\":false",
    b",\"secure\":true",
    b",\"httpOnly\":true",
    b",\"httpOnly\":false",
    b",\"path\":\"/\"",
    b",\"path\":",
    b",\"domain\":",
    b",\"sameSite\":\"lax\"",
    b",\"sameSite\":\"strict\"",
    b",\"sameSite\":\"none\"",
    b",\"sameSite\":",
    b",\"partitioned\":",
    b",\"priority\":",
    b"\"originalMaxAge\":",
    b"{\"originalMaxAge\":null",
];
/// `"YYYY-MM-DDTHH:MM:SS.sssZ"` as six bytes of milliseconds since the epoch.
const DATE: u8 = 0x1e;
/// The rest of the part is stored unpacked.
const RAW: u8 = 0x1f;
const QUOTED_DATE_LEN: usize = 26;
/// The marker of `,"expires":`.
const EXPIRES_TOKEN: u8 = 3;
/// The first instant of the year 10000: later dates are not packed.
const MAX_PACKED_DATE: i64 = 253_402_300_800_000;

/// Appends `text` packed.
pub fn pack_into(text: &[u8], out: &mut Vec<u8>) {
    if text.iter().any(|&b| b < 0x20) {
        out.push(RAW);
        out.extend_from_slice(text);
        return;
    }
    out.reserve(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < text.len() {
        if matches!(text[i], b'{' | b',' | b'"') {
            if let Some(packed) = packing_at(&text[i..]) {
                out.extend_from_slice(&text[copied..i]);
                match packed {
                    Packed::Token(index) => {
                        out.push(index as u8 + 1);
                        i += TOKENS[index].len();
                    }
                    Packed::Date(ms) => {
                        out.push(DATE);
                        out.extend_from_slice(&ms.to_be_bytes()[2..]);
                        i += QUOTED_DATE_LEN;
                    }
                }
                copied = i;
                continue;
            }
        }
        i += 1;
    }
    out.extend_from_slice(&text[copied..]);
}

enum Packed {
    Token(usize),
    Date(i64),
}

// What starts `text`, if it packs: a token or a date.
fn packing_at(text: &[u8]) -> Option<Packed> {
    // Candidates by the first byte and the key's first letter: a handful of
    // comparisons at most, on the bytes JSON has most of.
    let candidates: &[usize] = match (text[0], text.get(2)) {
        (b'"', _) => {
            if text.len() >= QUOTED_DATE_LEN && text[5] == b'-' && text[11] == b'T' {
                if let Some(ms) = parse_quoted_date(&text[..QUOTED_DATE_LEN]) {
                    return Some(Packed::Date(ms));
                }
            }
            &[16]
        }
        (b'{', Some(b'c')) => &[0],
        (b'{', Some(b'o')) => &[17, 1],
        (b',', Some(b'e')) => &[2],
        (b',', Some(b's')) => &[3, 4, 10, 11, 12, 13],
        (b',', Some(b'h')) => &[5, 6],
        (b',', Some(b'p')) => &[7, 8, 14, 15],
        (b',', Some(b'd')) => &[9],
        _ => return None,
    };
    // Where one token starts another, the lists have the longer first.
    candidates
        .iter()
        .copied()
        .find(|&index| text.starts_with(TOKENS[index]))
        .map(Packed::Token)
}

/// Appends the text that `packed` holds.
pub fn unpack_into(packed: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < packed.len() {
        // Copy the plain run up to the next marker in one go.
        let run = packed[i..]
            .iter()
            .position(|&b| b < 0x20)
            .unwrap_or(packed.len() - i);
        out.extend_from_slice(&packed[i..i + run]);
        i += run;
        let Some(&marker) = packed.get(i) else {
            return;
        };
        i += 1;
        match marker {
            RAW => {
                out.extend_from_slice(&packed[i..]);
                return;
            }
            DATE => {
                let mut ms = [0u8; 8];
                let end = (i + 6).min(packed.len());
                ms[8 - (end - i)..].copy_from_slice(&packed[i..end]);
                write_quoted_date(i64::from_be_bytes(ms), out);
                i = end;
            }
            _ => match TOKENS.get(usize::from(marker) - 1) {
                Some(token) => out.extend_from_slice(token),
                None => out.push(marker),
            },
        }
    }
}

/// Milliseconds of a quoted ISO date that formats back to exactly these bytes,
/// for years 1970 to 9999 (so they fit six bytes).
fn parse_quoted_date(text: &[u8]) -> Option<i64> {
    if text.len() != QUOTED_DATE_LEN || text[0] != b'"' || text[25] != b'"' {
        return None;
    }
    let digits = |range: Range<usize>| -> Option<i64> {
        text[range].iter().try_fold(0i64, |n, &b| {
            b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0'))
        })
    };
    let year = digits(1..5)?;
    let month = digits(6..8)?;
    let day = digits(9..11)?;
    let hours = digits(12..14)?;
    let minutes = digits(15..17)?;
    let seconds = digits(18..20)?;
    let millis = digits(21..24)?;
    let separators = [
        (5, b'-'),
        (8, b'-'),
        (11, b'T'),
        (14, b':'),
        (17, b':'),
        (20, b'.'),
        (24, b'Z'),
    ];
    let in_range = (1970..=9999).contains(&year)
        && (1..=12).contains(&month)
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

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn write_quoted_date(ms: i64, out: &mut Vec<u8>) {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    out.push(b'"');
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
    out.extend_from_slice(b"Z\"");
}

fn push_digits(out: &mut Vec<u8>, value: i64, width: u32) {
    let mut digits = [b'0'; 4];
    let mut rest = value.clamp(0, 9999);
    for digit in digits.iter_mut().rev() {
        *digit = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    out.extend_from_slice(&digits[4 - width as usize..]);
}

fn push_varint(out: &mut Vec<u8>, mut value: usize) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn read_varint(bytes: &[u8], at: &mut usize) -> usize {
    let mut value = 0usize;
    let mut shift = 0;
    while let Some(&byte) = bytes.get(*at) {
        *at += 1;
        value |= usize::from(byte & 0x7f) << shift;
        if byte < 0x80 || shift > 56 {
            break;
        }
        shift += 7;
    }
    value
}

/// Where the parts of a record are.
struct Layout {
    id: Range<usize>,
    prefix: Range<usize>,
    cookie: Range<usize>,
    rest: Range<usize>,
}

fn layout(record: &[u8]) -> Layout {
    let mut at = 0;
    let id_len = read_varint(record, &mut at);
    let end = record.len();
    let id = at.min(end)..(at + id_len).min(end);
    at = id.end;
    let prefix_len = read_varint(record, &mut at);
    let cookie_len = read_varint(record, &mut at);
    let prefix = at.min(end)..(at + prefix_len).min(end);
    let cookie = prefix.end..(prefix.end + cookie_len).min(end);
    let rest = cookie.end..end;
    Layout {
        id,
        prefix,
        cookie,
        rest,
    }
}

/// Appends the record of session `id` whose JSON is `json`, split at `cookie`
/// (the byte range of its cookie value, if it has one).
pub fn encode(id: &str, json: &str, cookie: Option<Range<usize>>, out: &mut Vec<u8>) {
    let cookie = cookie.unwrap_or(json.len()..json.len());
    let bytes = json.as_bytes();
    encode_parts(
        id.as_bytes(),
        |parts| pack_into(&bytes[..cookie.start], parts),
        |parts| pack_into(&bytes[cookie.clone()], parts),
        |parts| pack_into(&bytes[cookie.end..], parts),
        out,
    );
}

/// Appends `record` with another cookie value; false (nothing appended) when
/// the record has no cookie.
pub fn encode_with_cookie(record: &[u8], cookie_json: &str, out: &mut Vec<u8>) -> bool {
    let layout = layout(record);
    if layout.cookie.is_empty() {
        return false;
    }
    encode_parts(
        &record[layout.id],
        |parts| parts.extend_from_slice(&record[layout.prefix.clone()]),
        |parts| pack_into(cookie_json.as_bytes(), parts),
        |parts| parts.extend_from_slice(&record[layout.rest.clone()]),
        out,
    );
    true
}

fn encode_parts(
    id: &[u8],
    prefix: impl FnOnce(&mut Vec<u8>),
    cookie: impl FnOnce(&mut Vec<u8>),
    rest: impl FnOnce(&mut Vec<u8>),
    out: &mut Vec<u8>,
) {
    push_varint(out, id.len());
    out.extend_from_slice(id);
    // The parts go straight into `out`; their lengths, known afterwards, are
    // slipped in before them.
    let lengths_at = out.len();
    prefix(out);
    let prefix_len = out.len() - lengths_at;
    cookie(out);
    let cookie_len = out.len() - lengths_at - prefix_len;
    rest(out);
    let mut lengths = [0u8; 20];
    let mut n = 0;
    for mut value in [prefix_len, cookie_len] {
        while value >= 0x80 {
            lengths[n] = (value as u8) | 0x80;
            value >>= 7;
            n += 1;
        }
        lengths[n] = value as u8;
        n += 1;
    }
    out.splice(lengths_at..lengths_at, lengths[..n].iter().copied());
}

/// Sets the cookie's `expires` to `ms` in place, when the cookie holds it as a
/// packed date (as every cookie this store wrote does); false otherwise.
pub fn set_cookie_expires(record: &mut [u8], ms: i64) -> bool {
    if !(0..MAX_PACKED_DATE).contains(&ms) {
        return false;
    }
    let cookie = layout(record).cookie;
    let part = &record[cookie.clone()];
    let mut i = 0;
    while i < part.len() {
        match part[i] {
            RAW => return false,
            DATE => i += 7,
            EXPIRES_TOKEN if part.get(i + 1) == Some(&DATE) && i + 8 <= part.len() => {
                let at = cookie.start + i + 2;
                record[at..at + 6].copy_from_slice(&ms.to_be_bytes()[2..]);
                return true;
            }
            _ => i += 1,
        }
    }
    false
}

/// The session ID a record holds.
pub fn id(record: &[u8]) -> &[u8] {
    &record[layout(record).id]
}

/// The session's JSON text.
pub fn json(record: &[u8]) -> String {
    let layout = layout(record);
    let mut out = Vec::with_capacity(record.len() * 2);
    for part in [layout.prefix, layout.cookie, layout.rest] {
        unpack_into(&record[part], &mut out);
    }
    // Packing only ever splits and rejoins at ASCII bytes.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> Vec<u8> {
        let mut packed = Vec::new();
        pack_into(text.as_bytes(), &mut packed);
        let mut back = Vec::new();
        unpack_into(&packed, &mut back);
        assert_eq!(String::from_utf8(back).unwrap(), text);
        packed
    }

    const SESSION: &str = r#"{"cookie":{"originalMaxAge":3600000,"expires":"2026-11-27T12:28:12.050Z","secure":false,"httpOnly":true,"path":"/"},"user":{"id":100001,"name":"user1"},"views":1}"#;

    #[test]
    fn packs_a_session_to_about_half() {
        let packed = round_trip(SESSION);
        assert!(packed.len() * 2 < SESSION.len() + 40, "{}", packed.len());
    }

    #[test]
    fn dates_pack_only_when_they_format_back_exactly() {
        for text in [
            r#""2026-02-29T00:00:00.000Z""#,
            r#""1969-12-31T23:59:59.999Z""#,
            r#""2026-13-01T00:00:00.000Z""#,
            r#""2026-01-01T24:00:00.000Z""#,
            r#""9999-12-31T23:59:59.999Z""#,
            r#""1970-01-01T00:00:00.000Z""#,
            r#""2026-01-01T00:00:00.000Z"#,
        ] {
            round_trip(text);
        }
        assert_eq!(round_trip(r#""2028-02-29T10:11:12.013Z""#).len(), 7);
        assert_eq!(round_trip(r#""2026-02-29T10:11:12.013Z""#).len(), 26);
    }

    #[test]
    fn expires_changes_in_place() {
        let member = crate::json_object::find_member(SESSION, "cookie").unwrap();
        let mut record = Vec::new();
        encode("sid", SESSION, Some(member.value), &mut record);
        let later = 1_900_000_000_123;
        assert!(set_cookie_expires(&mut record, later));
        assert_eq!(
            json(&record),
            SESSION.replace("2026-11-27T12:28:12.050Z", "2030-03-17T17:46:40.123Z")
        );
        assert!(!set_cookie_expires(&mut record, MAX_PACKED_DATE));
        let mut bare = Vec::new();
        let no_expiry = r#"{"cookie":{"path":"/"},"expires":"2026-11-27T12:28:12.050Z"}"#;
        let member = crate::json_object::find_member(no_expiry, "cookie").unwrap();
        encode("sid", no_expiry, Some(member.value), &mut bare);
        assert!(!set_cookie_expires(&mut bare, later));
    }

    #[test]
    fn control_bytes_are_kept_raw() {
        round_trip("{\"a\":\"\u{1}\u{1e}\u{1f}\"}");
        round_trip("\u{1f}");
        round_trip("");
    }

    #[test]
    fn records_split_at_the_cookie_and_touch_replaces_it() {
        let member = crate::json_object::find_member(SESSION, "cookie").unwrap();
        let mut record = Vec::new();
        encode("sid", SESSION, Some(member.value.clone()), &mut record);
        assert_eq!(id(&record), b"sid");
        assert_eq!(json(&record), SESSION);
        let mut touched = Vec::new();
        assert!(encode_with_cookie(
            &record,
            r#"{"path":"/x"}"#,
            &mut touched
        ));
        let expected = format!(
            "{}{}{}",
            &SESSION[..member.value.start],
            r#"{"path":"/x"}"#,
            &SESSION[member.value.end..]
        );
        assert_eq!(json(&touched), expected);
        let mut bare = Vec::new();
        encode(&"i".repeat(300), "{\"n\":1}", None, &mut bare);
        assert_eq!(id(&bare).len(), 300);
        assert_eq!(json(&bare), "{\"n\":1}");
        assert!(!encode_with_cookie(&bare, "{}", &mut Vec::new()));
    }
}
