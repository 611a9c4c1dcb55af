//! The dirty-check digest: SHA-256 of a serialized session without its top-level
//! `cookie` member, so that a new expiry alone does not count as a change (as in
//! express-session, which hashes `JSON.stringify` of the session minus `cookie`).

use crate::json_object::find_member;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

pub fn session_digest(json: &str) -> String {
    let mut hasher = Sha256::new();
    match find_member(json, "cookie") {
        Some(cookie) => {
            hasher.update(&json.as_bytes()[..cookie.removal.start]);
            hasher.update(&json.as_bytes()[cookie.removal.end..]);
        }
        None => hasher.update(json.as_bytes()),
    }
    STANDARD_NO_PAD.encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_does_not_count() {
        let a = session_digest(r#"{"cookie":{"expires":"2020-01-01T00:00:00.000Z"},"n":1}"#);
        let b = session_digest(r#"{"cookie":{"expires":"2030-01-01T00:00:00.000Z"},"n":1}"#);
        assert_eq!(a, b);
        assert_eq!(a, session_digest(r#"{"n":1}"#));
        assert_eq!(session_digest(r#"{"cookie":{}}"#), session_digest("{}"));
    }

    #[test]
    fn data_counts() {
        assert_ne!(
            session_digest(r#"{"cookie":{},"n":1}"#),
            session_digest(r#"{"cookie":{},"n":2}"#)
        );
        assert_ne!(
            session_digest(r#"{"u":{"cookie":1}}"#),
            session_digest(r#"{"u":{"cookie":2}}"#)
        );
    }
}
