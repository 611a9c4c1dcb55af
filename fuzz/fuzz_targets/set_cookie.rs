//! Set-Cookie serialization of arbitrary names, values and attributes never
//! panics, and what it writes is a single header line the reader reads back.
#![no_main]

use express_session_rs::cookie::header::find_cookie;
use express_session_rs::cookie::set_cookie::{serialize, CookieAttributes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.split('\u{0}');
    let name = parts.next().unwrap_or("");
    let value = parts.next().unwrap_or("");
    let expires = parts.next().and_then(|p| p.parse::<f64>().ok());
    let attributes = CookieAttributes {
        expires,
        domain: parts.next(),
        path: parts.next(),
        http_only: text.len() % 2 == 0,
        secure: text.len() % 3 == 0,
        partitioned: text.len() % 5 == 0,
        priority: parts.next(),
        same_site: parts.next(),
    };
    if let Ok(header) = serialize(name, value, &attributes) {
        assert!(!header.contains(['\r', '\n', '\u{0}']), "header splitting");
        assert_eq!(find_cookie(&header, name).as_deref(), Some(value));
    }
});
