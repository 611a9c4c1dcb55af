//! The Cookie header reader and percent-decoding on arbitrary input: no panic,
//! and a value is only ever a slice of the header or its decoding.
#![no_main]

use express_session_rs::cookie::header::{decode_component, find_cookie};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (name, header) = text.split_once('\n').unwrap_or(("connect.sid", text));
    if let Some(value) = find_cookie(header, name) {
        assert!(value.len() <= header.len());
    }
    let decoded = decode_component(header);
    assert!(decoded.len() <= header.len());
});
