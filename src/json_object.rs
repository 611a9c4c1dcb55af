//! Just enough JSON to work on the top level of a serialized session object:
//! finding one member (`"cookie":{...}`) to leave it out of the digest or to
//! split a stored session around it. User data is never parsed or rewritten.

use std::ops::Range;

/// Where one member of the top-level object stands in `text`.
#[derive(Debug, PartialEq, Eq, Clone)]
pub struct Member {
    /// The value alone.
    pub value: Range<usize>,
    /// The member plus one adjoining comma: what removing it takes out.
    pub removal: Range<usize>,
}

/// The member called `key` (written without escapes) of the object in `text`,
/// or `None` when there is none or `text` is not an object.
pub fn find_member(text: &str, key: &str) -> Option<Member> {
    let bytes = text.as_bytes();
    let mut i = skip_whitespace(bytes, 0);
    if bytes.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    let mut previous_comma: Option<usize> = None;
    loop {
        i = skip_whitespace(bytes, i);
        if bytes.get(i)? != &b'"' {
            return None;
        }
        let key_start = i;
        let key_end = skip_string(bytes, i)?;
        let name = &text[key_start + 1..key_end - 1];
        i = skip_whitespace(bytes, key_end);
        if bytes.get(i)? != &b':' {
            return None;
        }
        let value_start = skip_whitespace(bytes, i + 1);
        let value_end = skip_value(bytes, value_start)?;
        let after = skip_whitespace(bytes, value_end);
        let next_comma = (bytes.get(after) == Some(&b',')).then_some(after);
        if name == key {
            let removal = match (previous_comma, next_comma) {
                (Some(comma), _) => comma..value_end,
                (None, Some(comma)) => key_start..comma + 1,
                (None, None) => key_start..value_end,
            };
            return Some(Member {
                value: value_start..value_end,
                removal,
            });
        }
        match next_comma {
            Some(comma) => {
                previous_comma = Some(comma);
                i = comma + 1;
            }
            None => return None,
        }
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

    fn removed(text: &str) -> String {
        let member = find_member(text, "cookie").unwrap();
        format!(
            "{}{}",
            &text[..member.removal.start],
            &text[member.removal.end..]
        )
    }

    #[test]
    fn removes_the_member_wherever_it_stands() {
        assert_eq!(removed(r#"{"cookie":{"a":1}}"#), "{}");
        assert_eq!(removed(r#"{"cookie":{"a":1},"b":2}"#), r#"{"b":2}"#);
        assert_eq!(removed(r#"{"a":1,"cookie":{"p":"}"}}"#), r#"{"a":1}"#);
        assert_eq!(
            removed(r#"{"a":[1,{"cookie":2}],"cookie":null,"b":"x\"y"}"#),
            r#"{"a":[1,{"cookie":2}],"b":"x\"y"}"#
        );
    }

    #[test]
    fn ignores_nested_members_of_the_same_name() {
        assert_eq!(find_member(r#"{"user":{"cookie":1}}"#, "cookie"), None);
    }

    #[test]
    fn tolerates_whitespace() {
        assert_eq!(
            removed("{ \"a\" : 1 , \"cookie\" : { } }"),
            "{ \"a\" : 1  }"
        );
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
        ] {
            assert_eq!(find_member(text, "cookie"), None, "{text}");
        }
    }
}
