//! Reading one cookie out of a `Cookie` request header.
//!
//! The scan follows the `cookie` npm package (0.7), which express-session uses:
//! pairs split on `;`, a pair without `=` is skipped, keys and values are trimmed
//! of spaces and tabs, one pair of surrounding double quotes is dropped, the first
//! occurrence of a name wins, and a value containing `%` is percent-decoded as
//! `decodeURIComponent` would, or kept as it is when that would throw.

use std::borrow::Cow;

/// The decoded value of the first cookie called `name`, if the header has one.
pub fn find_cookie<'a>(header: &'a str, name: &str) -> Option<Cow<'a, str>> {
    let bytes = header.as_bytes();
    let len = bytes.len();
    if len < 2 {
        return None;
    }

    let mut index = 0;
    while index < len {
        let eq = index + bytes[index..].iter().position(|&b| b == b'=')?;
        let end = match bytes[index..].iter().position(|&b| b == b';') {
            None => len,
            Some(offset) if index + offset < eq => {
                // This segment has no `=`: resume after the last `;` before the `=`.
                index = bytes[..eq]
                    .iter()
                    .rposition(|&b| b == b';')
                    .map_or(0, |p| p + 1);
                continue;
            }
            Some(offset) => index + offset,
        };

        let key_start = skip_blanks_forward(bytes, index, eq);
        let key_end = skip_blanks_backward(bytes, eq, key_start);
        if &header[key_start..key_end] == name {
            let mut value_start = skip_blanks_forward(bytes, eq + 1, end);
            let mut value_end = skip_blanks_backward(bytes, end, value_start);
            if value_start < len
                && bytes[value_start] == b'"'
                && value_end > 0
                && bytes[value_end - 1] == b'"'
            {
                value_start += 1;
                value_end -= 1;
            }
            let raw = if value_start < value_end {
                &header[value_start..value_end]
            } else {
                ""
            };
            return Some(decode_component(raw));
        }

        index = end + 1;
    }
    None
}

fn is_blank(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

/// First index in `from..max` that is not a blank, or `max`.
fn skip_blanks_forward(bytes: &[u8], from: usize, max: usize) -> usize {
    (from..max).find(|&i| !is_blank(bytes[i])).unwrap_or(max)
}

/// One past the last index in `min..to` that is not a blank, or `min`.
fn skip_blanks_backward(bytes: &[u8], to: usize, min: usize) -> usize {
    (min..to)
        .rev()
        .find(|&i| !is_blank(bytes[i]))
        .map_or(min, |i| i + 1)
}

/// `decodeURIComponent`, except that input it would reject comes back unchanged.
pub fn decode_component(raw: &str) -> Cow<'_, str> {
    if !raw.contains('%') {
        return Cow::Borrowed(raw);
    }
    match percent_decode(raw.as_bytes()) {
        Some(decoded) => Cow::Owned(decoded),
        None => Cow::Borrowed(raw),
    }
}

fn percent_decode(input: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'%' {
            let high = hex_value(*input.get(i + 1)?)?;
            let low = hex_value(*input.get(i + 2)?)?;
            out.push(high << 4 | low);
            i += 3;
        } else {
            out.push(input[i]);
            i += 1;
        }
    }
    // Literal characters are whole UTF-8 sequences, so an escaped sequence that is
    // cut short or overlong, or encodes a surrogate, fails here as it throws in V8.
    String::from_utf8(out).ok()
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(header: &str, name: &str) -> Option<String> {
        find_cookie(header, name).map(Cow::into_owned)
    }

    #[test]
    fn finds_a_plain_value() {
        assert_eq!(
            find("connect.sid=abc", "connect.sid").as_deref(),
            Some("abc")
        );
        assert_eq!(find("a=1; b=2; c=3", "b").as_deref(), Some("2"));
    }

    #[test]
    fn first_occurrence_wins() {
        assert_eq!(find("a=1; a=2", "a").as_deref(), Some("1"));
    }

    #[test]
    fn trims_blanks_around_keys_and_values() {
        assert_eq!(find(" \ta \t=\t 1 ;b=2", "a").as_deref(), Some("1"));
    }

    #[test]
    fn drops_one_pair_of_quotes() {
        assert_eq!(find("a=\"x y\"", "a").as_deref(), Some("x y"));
        assert_eq!(find("a=\"\"x\"\"", "a").as_deref(), Some("\"x\""));
        assert_eq!(find("a=\"", "a").as_deref(), Some(""));
        assert_eq!(find("a=\"x", "a").as_deref(), Some("\"x"));
    }

    #[test]
    fn skips_segments_without_equals() {
        assert_eq!(find("junk; a=1", "a").as_deref(), Some("1"));
        assert_eq!(find("x; y; a=1", "a").as_deref(), Some("1"));
        assert_eq!(find("a; b=2", "a"), None);
        assert_eq!(find("noequals", "noequals"), None);
    }

    #[test]
    fn short_headers_have_no_cookies() {
        assert_eq!(find("", "a"), None);
        assert_eq!(find("=", ""), None);
    }

    #[test]
    fn empty_names_and_values() {
        assert_eq!(find("=1; a=2", "").as_deref(), Some("1"));
        assert_eq!(find("a=; b=2", "a").as_deref(), Some(""));
    }

    #[test]
    fn percent_decodes_like_decode_uri_component() {
        assert_eq!(find("a=s%3Aabc.def%2B", "a").as_deref(), Some("s:abc.def+"));
        assert_eq!(find("a=%C3%A9", "a").as_deref(), Some("é"));
        assert_eq!(find("a=%3b", "a").as_deref(), Some(";"));
    }

    #[test]
    fn invalid_escapes_leave_the_value_unchanged() {
        for raw in [
            "%",
            "%zz",
            "%e",
            "a%C3",
            "%C3%28",
            "%ED%A0%80",
            "%C0%80",
            "%F4%90%80%80",
            "%C3é",
        ] {
            let header = format!("a={raw}");
            assert_eq!(find(&header, "a").as_deref(), Some(raw), "{raw}");
        }
    }

    #[test]
    fn keys_compare_without_decoding() {
        assert_eq!(find("a%2Eb=1; a.b=2", "a.b").as_deref(), Some("2"));
    }

    #[test]
    fn non_ascii_and_control_bytes_do_not_disturb_the_scan() {
        assert_eq!(find("ü=\u{1}; a=ÿ", "a").as_deref(), Some("ÿ"));
        assert_eq!(find("a=\u{0}x", "a").as_deref(), Some("\u{0}x"));
    }
}
