//! Default session IDs: 24 bytes from the operating system's CSPRNG (192 bits),
//! base64url without padding, so 32 characters that need no escaping in a cookie.
//!
//! The OS is asked for a few kilobytes at a time rather than 24 bytes per ID: a
//! system call per new session was most of the cost of making one. Each byte is
//! still used once, and only from the OS source.

use std::cell::RefCell;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::TryRngCore;

pub const ID_BYTES: usize = 24;
const POOL_BYTES: usize = ID_BYTES * 170;

struct Pool {
    bytes: [u8; POOL_BYTES],
    used: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = const { RefCell::new(Pool { bytes: [0; POOL_BYTES], used: POOL_BYTES }) };
}

pub fn generate() -> Result<String, rand::rand_core::OsError> {
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.used + ID_BYTES > POOL_BYTES {
            OsRng.try_fill_bytes(&mut pool.bytes)?;
            pool.used = 0;
        }
        let start = pool.used;
        pool.used += ID_BYTES;
        let id = URL_SAFE_NO_PAD.encode(&pool.bytes[start..start + ID_BYTES]);
        // Handed out: do not keep a copy of what is now someone's session ID.
        pool.bytes[start..start + ID_BYTES].fill(0);
        Ok(id)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_32_base64url_characters() {
        for _ in 0..1000 {
            let id = generate().unwrap();
            assert_eq!(id.len(), 32);
            assert!(id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        }
    }

    #[test]
    fn ids_do_not_repeat() {
        let ids: HashSet<String> = (0..10_000).map(|_| generate().unwrap()).collect();
        assert_eq!(ids.len(), 10_000);
    }

    #[test]
    fn ids_carry_192_bits() {
        let id = generate().unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(id).unwrap().len() * 8, 192);
    }
}
