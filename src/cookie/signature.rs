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
        self.sign_into(value, &mut signed, None);
        signed
    }

    /// Appends `value.signature` to `out`; a signature in `recent` is not
    /// computed again.
    pub fn sign_into(&self, value: &str, out: &mut String, recent: Option<&RecentSignatures>) {
        out.push_str(value);
        out.push('.');
        match recent.and_then(|recent| recent.find(value)) {
            Some(signature) => out.push_str(signature),
            None => STANDARD_NO_PAD.encode_string(mac(&self.keys[0], value), out),
        }
    }

    /// The value of `value.signature` when the signature matches one of the secrets.
    ///
    /// Unlike cookie-signature 1.0, which compares only as many bytes as a correct
    /// signature has, anything after the signature makes the cookie invalid.
    pub fn unsign<'a>(&self, signed: &'a str) -> Option<&'a str> {
        self.unsign_remembering(signed, None)
    }

    /// `unsign`, noting in `recent` a signature the first secret made, which
    /// signing the same value again would give.
    pub fn unsign_remembering<'a>(
        &self,
        signed: &'a str,
        mut recent: Option<&mut RecentSignatures>,
    ) -> Option<&'a str> {
        let dot = signed.rfind('.')?;
        let (value, signature) = (&signed[..dot], &signed.as_bytes()[dot + 1..]);
        let mut expected = [0u8; SIGNATURE_LENGTH];
        self.keys.iter().enumerate().find_map(|(index, key)| {
            let written = STANDARD_NO_PAD
                .encode_slice(mac(key, value), &mut expected)
                .ok()?;
            let valid = bool::from(expected[..written].ct_eq(signature));
            if valid && index == 0 {
                if let Some(recent) = recent.as_deref_mut() {
                    recent.remember(value, &signed[dot + 1..]);
                }
            }
            valid.then_some(value)
        })
    }
}

/// Base64 (no padding) of an HMAC-SHA256.
const SIGNATURE_LENGTH: usize = 43;

/// Signatures the first secret gave values lately (their cookie was verified),
/// so that the `Set-Cookie` that sends the same session ID back, on the same
/// request or one soon after, signs nothing: a signature is a pure function
/// of the value and the key, so this changes no output. A few entries, written
/// in turn, for requests that overlap.
#[derive(Default)]
pub struct RecentSignatures {
    entries: [Option<(String, String)>; RECENT_SIGNATURES],
    next: usize,
}

const RECENT_SIGNATURES: usize = 8;
// Longer values (IDs from an app's genid) are signed each time.
const MAX_REMEMBERED_VALUE: usize = 64;

impl RecentSignatures {
    fn remember(&mut self, value: &str, signature: &str) {
        if value.len() > MAX_REMEMBERED_VALUE || self.find(value).is_some() {
            return;
        }
        self.entries[self.next] = Some((value.to_owned(), signature.to_owned()));
        self.next = (self.next + 1) % RECENT_SIGNATURES;
    }

    fn find(&self, value: &str) -> Option<&str> {
        self.entries
            .iter()
            .flatten()
            .find(|(known, _)| known == value)
            .map(|(_, signature)| signature.as_str())
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
    fn reuses_only_signatures_the_first_secret_made() {
        let old = Signer::new(&["old"]).unwrap();
        let rotated = Signer::new(&["new", "old"]).unwrap();
        let mut recent = RecentSignatures::default();
        let by_new = rotated.sign("a");
        assert_eq!(
            rotated.unsign_remembering(&by_new, Some(&mut recent)),
            Some("a")
        );
        assert_eq!(recent.find("a"), Some(&by_new[2..]));
        // Verified by the old secret: signing again must use the new one.
        let by_old = old.sign("b");
        assert_eq!(
            rotated.unsign_remembering(&by_old, Some(&mut recent)),
            Some("b")
        );
        assert_eq!(recent.find("b"), None);
        let mut out = String::new();
        rotated.sign_into("b", &mut out, Some(&recent));
        assert_eq!(out, rotated.sign("b"));
        // A forged signature is not remembered.
        assert_eq!(
            rotated.unsign_remembering("c.forged", Some(&mut recent)),
            None
        );
        assert_eq!(recent.find("c"), None);
    }

    #[test]
    fn remembers_a_few_values_in_turn() {
        let signer = Signer::new(&[KEYBOARD_CAT]).unwrap();
        let mut recent = RecentSignatures::default();
        let values: Vec<String> = (0..=RECENT_SIGNATURES).map(|i| format!("v{i}")).collect();
        for value in &values {
            signer.unsign_remembering(&signer.sign(value), Some(&mut recent));
        }
        assert_eq!(recent.find(&values[0]), None);
        for value in &values[1..] {
            let mut out = String::new();
            signer.sign_into(value, &mut out, Some(&recent));
            assert_eq!(out, signer.sign(value));
            assert!(recent.find(value).is_some());
        }
        let long = "x".repeat(MAX_REMEMBERED_VALUE + 1);
        signer.unsign_remembering(&signer.sign(&long), Some(&mut recent));
        assert_eq!(recent.find(&long), None);
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
