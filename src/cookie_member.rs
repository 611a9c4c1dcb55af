//! Where the value of a serialized session's top-level `cookie` member is, so
//! that a stored session can be split around it (memory records). Just enough
//! JSON for that: the top level is scanned, nested values are skipped whole,
//! and user data is never parsed or rewritten.

use std::ops::Range;

/// The byte range of the value of the top-level member `"cookie"` of the object
/// in `json`, or `None` when there is none or `json` is not an object.
pub fn cookie_member(json: &str) -> Option<Range<usize>> {
    let bytes = json.as_bytes();
    let mut i = skip_whitespace(bytes, 0);
    if bytes.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_whitespace(bytes, i);
        if bytes.get(i)? != &b'"' {
            return None;
        }
        let key_end = skip_string(bytes, i)?;
        // Compared as written: express-session's JSON never escapes this key.
        let is_cookie = &bytes[i + 1..key_end - 1] == b"cookie";
        i = skip_whitespace(bytes, key_end);
        if bytes.get(i)? != &b':' {
            return None;
        }
        let value_start = skip_whitespace(bytes, i + 1);
        let value_end = skip_value(bytes, value_start)?;
        if is_cookie {
            return Some(value_start..value_end);
        }
        let after = skip_whitespace(bytes, value_end);
        if bytes.get(after)? != &b',' {
            return None;
        }
        i = after + 1;
    }
}

fn skip_whitespace(bytes: &[u8], mut i: usize) -> usize {
    while matches!(bytes.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// `i` is on an opening quote; returns the index after the closing one.
fn skip_string(bytes: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    loop {
        match bytes.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
}

/// Returns the index after the value starting at `i`.
fn skip_value(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes.get(i)? {
        b'"' => skip_string(bytes, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match bytes.get(j)? {
                    b'"' => {
                        j = skip_string(bytes, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let len = bytes[i..]
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))?;
            (len > 0).then_some(i + len)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(json: &str) -> Option<&str> {
        cookie_member(json).map(|range| &json[range])
    }

    #[test]
    fn finds_the_value_wherever_the_member_stands() {
        assert_eq!(value(r#"{"cookie":{"a":1}}"#), Some(r#"{"a":1}"#));
        assert_eq!(value(r#"{"cookie":{"a":1},"b":2}"#), Some(r#"{"a":1}"#));
        assert_eq!(value(r#"{"a":1,"cookie":{"p":"}"}}"#), Some(r#"{"p":"}"}"#));
        assert_eq!(
            value(r#"{"a":[1,{"cookie":2}],"cookie":null,"b":"x\"y"}"#),
            Some("null")
        );
        assert_eq!(value(r#"{"a":"\"cookie\":1","cookie":2}"#), Some("2"));
    }

    #[test]
    fn ignores_nested_members_of_the_same_name() {
        assert_eq!(cookie_member(r#"{"user":{"cookie":1}}"#), None);
        assert_eq!(cookie_member(r#"{"n":1}"#), None);
    }

    #[test]
    fn tolerates_whitespace() {
        assert_eq!(value("{ \"a\" : 1 , \"cookie\" : { } }"), Some("{ }"));
        assert_eq!(value("\n{\"cookie\"\t:\r\n1}"), Some("1"));
    }

    #[test]
    fn rejects_what_is_not_an_object() {
        for text in [
            "",
            "[]",
            "1",
            "\"cookie\"",
            "{\"cookie\"",
            "{\"cookie\":",
            "{\"cookie\":{",
            "{'a':1}",
            "{\"a\":1 \"cookie\":2}",
        ] {
            assert_eq!(cookie_member(text), None, "{text}");
        }
    }
}
