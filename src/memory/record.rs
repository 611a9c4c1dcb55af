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

use crate::time::{parse_iso_date, write_iso_date, ISO_DATE_LEN};
use crate::varint;

/// Byte values below 0x20 mark substitutions; 0x01..=TOKENS.len() are these,
/// in this order (the order is the format: do not change it).
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
const QUOTED_DATE_LEN: usize = ISO_DATE_LEN + 2;
/// The marker of `,"expires":`.
const EXPIRES: u8 = marker_of(b",\"expires\":");
/// The first instant of the year 10000: later dates are not packed.
const MAX_PACKED_DATE: i64 = 253_402_300_800_000;

const _: () = assert!(
    TOKENS.len() < DATE as usize && TOKENS.len() <= 32,
    "a marker for each token below DATE, and a bit for each in a u32"
);

/// The byte that stands for `TOKENS[index]`.
const fn marker(index: usize) -> u8 {
    index as u8 + 1
}

/// The marker of `token`, which must be one of `TOKENS` (checked at compile time).
const fn marker_of(token: &[u8]) -> u8 {
    let mut index = 0;
    while index < TOKENS.len() {
        if bytes_equal(TOKENS[index], token) {
            return marker(index);
        }
        index += 1;
    }
    panic!("not a token")
}

const fn bytes_equal(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Token indexes, longest first: where one token starts another, the longer
/// must win, so it is tried first.
const BY_LENGTH: [u8; TOKENS.len()] = {
    let mut order = [0u8; TOKENS.len()];
    let mut i = 0;
    while i < TOKENS.len() {
        order[i] = i as u8;
        i += 1;
    }
    // Insertion sort, stable: equal lengths keep the table's order.
    let mut i = 1;
    while i < order.len() {
        let mut j = i;
        while j > 0 && TOKENS[order[j - 1] as usize].len() < TOKENS[order[j] as usize].len() {
            let swap = order[j - 1];
            order[j - 1] = order[j];
            order[j] = swap;
            j -= 1;
        }
        i += 1;
    }
    order
};

/// For each byte value, the tokens (as bits of their place in `BY_LENGTH`)
/// whose byte at `at` it is.
const fn tokens_with_byte_at(at: usize) -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut place = 0;
    while place < BY_LENGTH.len() {
        let token = TOKENS[BY_LENGTH[place] as usize];
        assert!(
            token.len() > 2,
            "tokens are told apart by their first and third bytes"
        );
        table[token[at] as usize] |= 1 << place;
        place += 1;
    }
    table
}

/// Tokens by their first byte (`{`, `,` or `"`) and by their third, the first
/// letter of the key after `{"` or `,"`: together they leave a handful of
/// candidates at most, and none for most of what JSON holds.
const BY_FIRST_BYTE: [u32; 256] = tokens_with_byte_at(0);
const BY_THIRD_BYTE: [u32; 256] = tokens_with_byte_at(2);

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
        // Dates start with a quote; tokens with one of their first bytes.
        if text[i] == b'"' || BY_FIRST_BYTE[usize::from(text[i])] != 0 {
            if let Some(packed) = packing_at(&text[i..]) {
                out.extend_from_slice(&text[copied..i]);
                match packed {
                    Packed::Token(index) => {
                        out.push(marker(index));
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

// What starts `text`, if it packs: a date or a token.
fn packing_at(text: &[u8]) -> Option<Packed> {
    if text[0] == b'"' && text.len() >= QUOTED_DATE_LEN && text[5] == b'-' && text[11] == b'T' {
        if let Some(ms) = parse_quoted_date(&text[..QUOTED_DATE_LEN]) {
            return Some(Packed::Date(ms));
        }
    }
    let third = text.get(2)?;
    let mut candidates = BY_FIRST_BYTE[usize::from(text[0])] & BY_THIRD_BYTE[usize::from(*third)];
    while candidates != 0 {
        let token = usize::from(BY_LENGTH[candidates.trailing_zeros() as usize]);
        if text.starts_with(TOKENS[token]) {
            return Some(Packed::Token(token));
        }
        candidates &= candidates - 1;
    }
    None
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
    let date = text.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
    parse_iso_date(date).filter(|ms| (0..MAX_PACKED_DATE).contains(ms))
}

fn write_quoted_date(ms: i64, out: &mut Vec<u8>) {
    out.push(b'"');
    write_iso_date(ms, out);
    out.push(b'"');
}

/// Where the parts of a record are.
struct Layout {
    id: Range<usize>,
    prefix: Range<usize>,
    cookie: Range<usize>,
    rest: Range<usize>,
}

/// A record that does not parse, which this module never writes, reads as
/// one with nothing in it.
fn layout(record: &[u8]) -> Layout {
    let end = record.len();
    parse_layout(record).unwrap_or(Layout {
        id: end..end,
        prefix: end..end,
        cookie: end..end,
        rest: end..end,
    })
}

fn parse_layout(record: &[u8]) -> Option<Layout> {
    let end = record.len();
    let within = |start: usize, len: usize| start..start.saturating_add(len).min(end);
    let mut at = 0;
    let id_len = varint::read(record, &mut at)?;
    let id = within(at, id_len);
    at = id.end;
    let prefix_len = varint::read(record, &mut at)?;
    let cookie_len = varint::read(record, &mut at)?;
    let prefix = within(at, prefix_len);
    let cookie = within(prefix.end, cookie_len);
    let rest = cookie.end..end;
    Some(Layout {
        id,
        prefix,
        cookie,
        rest,
    })
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
    varint::push(out, id.len());
    out.extend_from_slice(id);
    // The parts go straight into `out`; their lengths, known afterwards, are
    // slipped in before them.
    let lengths_at = out.len();
    prefix(out);
    let prefix_len = out.len() - lengths_at;
    cookie(out);
    let cookie_len = out.len() - lengths_at - prefix_len;
    rest(out);
    let (prefix_len, cookie_len) = (varint::encode(prefix_len), varint::encode(cookie_len));
    let lengths = prefix_len.as_bytes().iter().chain(cookie_len.as_bytes());
    out.splice(lengths_at..lengths_at, lengths.copied());
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
            EXPIRES if part.get(i + 1) == Some(&DATE) && i + 8 <= part.len() => {
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
    use crate::cookie_member::cookie_member;

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
    fn the_byte_format_stays_as_stored() {
        // Every token and a date, in records written by earlier versions.
        let text = r#"{"cookie":{"originalMaxAge":null,"expires":"2026-11-27T12:28:12.050Z","secure":false,"httpOnly":true,"path":"/","domain":"x","sameSite":"lax","partitioned":true,"priority":"high"},"a":{"originalMaxAge":1,"secure":true,"httpOnly":false,"path":"/a","sameSite":"strict","sameSite":"none","sameSite":true},"originalMaxAge":2,"d":"1969-12-31T23:59:59.999Z"}"#;
        let expected: &[u8] = &[
            3, 115, 105, 100, 1, 30, 1, 18, 3, 30, 1, 162, 28, 250, 63, 146, 4, 6, 8, 10, 34, 120,
            34, 11, 15, 116, 114, 117, 101, 16, 34, 104, 105, 103, 104, 34, 125, 44, 34, 97, 34,
            58, 2, 49, 5, 7, 9, 34, 47, 97, 34, 12, 13, 14, 116, 114, 117, 101, 125, 44, 17, 50,
            44, 34, 100, 34, 58, 34, 49, 57, 54, 57, 45, 49, 50, 45, 51, 49, 84, 50, 51, 58, 53,
            57, 58, 53, 57, 46, 57, 57, 57, 90, 34, 125,
        ];
        let mut record = Vec::new();
        encode("sid", text, cookie_member(text), &mut record);
        assert_eq!(record, expected);
        assert_eq!(json(expected), text);
        assert_eq!(EXPIRES, 3);
    }

    #[test]
    fn a_malformed_record_reads_as_empty() {
        for record in [&[][..], &[0x80], &[3, b'a'], &[0xff; 12], &[1, b'a', 0x80]] {
            let _ = json(record);
            let _ = id(record);
            assert!(!set_cookie_expires(&mut record.to_vec(), 0));
            assert!(!encode_with_cookie(record, "{}", &mut Vec::new()));
        }
        // Lengths that run past the end are cut at it.
        let cut = [2, b'a', b'b', 0, 9, b'x'];
        assert_eq!(id(&cut), b"ab");
        assert_eq!(json(&cut), "x");
    }

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
        let member = cookie_member(SESSION).unwrap();
        let mut record = Vec::new();
        encode("sid", SESSION, Some(member), &mut record);
        let later = 1_900_000_000_123;
        assert!(set_cookie_expires(&mut record, later));
        assert_eq!(
            json(&record),
            SESSION.replace("2026-11-27T12:28:12.050Z", "2030-03-17T17:46:40.123Z")
        );
        assert!(!set_cookie_expires(&mut record, MAX_PACKED_DATE));
        let mut bare = Vec::new();
        let no_expiry = r#"{"cookie":{"path":"/"},"expires":"2026-11-27T12:28:12.050Z"}"#;
        let member = cookie_member(no_expiry).unwrap();
        encode("sid", no_expiry, Some(member), &mut bare);
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
        let member = cookie_member(SESSION).unwrap();
        let mut record = Vec::new();
        encode("sid", SESSION, Some(member.clone()), &mut record);
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
            &SESSION[..member.start],
            r#"{"path":"/x"}"#,
            &SESSION[member.end..]
        );
        assert_eq!(json(&touched), expected);
        let mut bare = Vec::new();
        encode(&"i".repeat(300), "{\"n\":1}", None, &mut bare);
        assert_eq!(id(&bare).len(), 300);
        assert_eq!(json(&bare), "{\"n\":1}");
        assert!(!encode_with_cookie(&bare, "{}", &mut Vec::new()));
    }
}
