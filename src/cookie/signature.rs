//! Signed cookie values in cookie-signature's format: `value.signature`, where the
//! signature is HMAC-SHA256 of the value, base64 without padding.

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Signs with the first secret and verifies against all of them (secret rotation).
/// Each secret's HMAC key schedule is computed once, not per cookie.
#[derive(Clone)]
pub struct Signer {
    keys: Vec<HmacSha256>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct NoSecret;

impl Signer {
    pub fn new<S: AsRef<[u8]>>(secrets: &[S]) -> Result<Self, NoSecret> {
        if secrets.is_empty() {
            return Err(NoSecret);
        }
        let keys = secrets
            .iter()
            .map(|secret| HmacSha256::new_from_slice(secret.as_ref()).map_err(|_| NoSecret))
            .collect::<Result<_, _>>()?;
        Ok(Signer { keys })
    }

    /// `value.signature` signed with the first secret.
    pub fn sign(&self, value: &str) -> String {
        let mut signed = String::with_capacity(value.len() + 44);
        self.sign_into(value, &mut signed);
        signed
    }

    /// Appends `value.signature` to `out`.
    pub fn sign_into(&self, value: &str, out: &mut String) {
        out.push_str(value);
        out.push('.');
        STANDARD_NO_PAD.encode_string(mac(&self.keys[0], value), out);
    }

    /// The value of `value.signature` when the signature matches one of the secrets.
    ///
    /// Unlike cookie-signature 1.0, which compares only as many bytes as a correct
    /// signature has, anything after the signature makes the cookie invalid.
    pub fn unsign<'a>(&self, signed: &'a str) -> Option<&'a str> {
        let dot = signed.rfind('.')?;
        let (value, signature) = (&signed[..dot], &signed.as_bytes()[dot + 1..]);
        let mut expected = [0u8; 43];
        self.keys.iter().find_map(|key| {
            let written = STANDARD_NO_PAD
                .encode_slice(mac(key, value), &mut expected)
                .ok()?;
            bool::from(expected[..written].ct_eq(signature)).then_some(value)
        })
    }
}

fn mac(key: &HmacSha256, value: &str) -> [u8; 32] {
    let mut mac = key.clone();
    mac.update(value.as_bytes());
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors written by cookie-signature 1.0.7 (`signature.sign(value, secret)`).
    const KEYBOARD_CAT: &str = "keyboard cat";

    #[test]
    fn signs_like_cookie_signature() {
        let signer = Signer::new(&[KEYBOARD_CAT]).unwrap();
        assert_eq!(
            signer.sign("hello"),
            "hello.xz6khi6+oL1pnNhBgjk3Nr1CX2sxTjJiO9pKXaHZ33E"
        );
        assert_eq!(
            signer.sign(""),
            ".aJcKKTu8Uv0mRiw7LTI435t+pOa+giU/WLAuLCKGEFc"
        );
    }

    #[test]
    fn unsigns_what_it_signed() {
        let signer = Signer::new(&[KEYBOARD_CAT]).unwrap();
        for value in ["", "abc", "a.b.c", "é ü", "s:nested"] {
            assert_eq!(signer.unsign(&signer.sign(value)), Some(value));
        }
    }

    #[test]
    fn rejects_changed_values_and_signatures() {
        let signer = Signer::new(&[KEYBOARD_CAT]).unwrap();
        let signed = signer.sign("hello");
        assert_eq!(signer.unsign(&signed.replace("hello", "hellp")), None);
        assert_eq!(signer.unsign(&signed[..signed.len() - 1]), None);
        assert_eq!(signer.unsign(&format!("{signed}x")), None);
        assert_eq!(signer.unsign("hello"), None);
        assert_eq!(signer.unsign("hello."), None);
    }

    #[test]
    fn signs_with_the_first_and_verifies_with_every_secret() {
        let old = Signer::new(&["old"]).unwrap();
        let rotated = Signer::new(&["new", "old"]).unwrap();
        let signed_by_old = old.sign("sid");
        assert_eq!(rotated.unsign(&signed_by_old), Some("sid"));
        assert_eq!(
            rotated.sign("sid"),
            Signer::new(&["new"]).unwrap().sign("sid")
        );
        assert_eq!(Signer::new(&["new"]).unwrap().unsign(&signed_by_old), None);
    }

    #[test]
    fn binary_secrets_sign_like_their_bytes() {
        let from_bytes = Signer::new(&[KEYBOARD_CAT.as_bytes().to_vec()]).unwrap();
        let from_str = Signer::new(&[KEYBOARD_CAT]).unwrap();
        assert_eq!(from_bytes.sign("v"), from_str.sign("v"));
    }

    #[test]
    fn needs_a_secret() {
        assert!(Signer::new::<&str>(&[]).is_err());
    }
}
