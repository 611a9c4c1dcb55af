//! Default session IDs: 24 bytes from the operating system's CSPRNG (192 bits),
//! base64url without padding, so 32 characters that need no escaping in a cookie.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::TryRngCore;

pub const ID_BYTES: usize = 24;

pub fn generate() -> Result<String, rand::rand_core::OsError> {
    let mut bytes = [0u8; ID_BYTES];
    OsRng.try_fill_bytes(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
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
