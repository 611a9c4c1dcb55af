//! Properties of the signing and cookie code, over generated inputs (unit tests
//! rather than tests/, which could not link the Node.js symbols the addon uses).

use crate::cookie_header::{decode_component, find_cookie};
use crate::set_cookie::{serialize, CookieAttributes};
use crate::signature::Signer;
use proptest::prelude::*;

fn secrets() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..4)
}

proptest! {
    #[test]
    fn unsign_returns_what_sign_signed(value in ".*", secrets in secrets()) {
        let signer = Signer::new(&secrets).unwrap();
        let signed = signer.sign(&value);
        prop_assert_eq!(signer.unsign(&signed), Some(value.as_str()));
        // Any other list that still holds the signing secret verifies it too.
        let mut rotated = secrets.clone();
        rotated.rotate_left(1);
        let rotated = Signer::new(&rotated).unwrap();
        prop_assert_eq!(rotated.unsign(&signed), Some(value.as_str()));
    }

    #[test]
    fn unsign_rejects_any_change(value in "[ -~]{0,40}", secrets in secrets(), position in any::<prop::sample::Index>(), replacement in any::<char>()) {
        let signer = Signer::new(&secrets).unwrap();
        let signed = signer.sign(&value);
        let mut chars: Vec<char> = signed.chars().collect();
        let at = position.index(chars.len());
        prop_assume!(chars[at] != replacement);
        chars[at] = replacement;
        let changed: String = chars.into_iter().collect();
        prop_assert_eq!(signer.unsign(&changed), None);
    }

    #[test]
    fn unsign_rejects_other_secrets(value in ".*", secret in "[a-z]{1,20}", other in "[A-Z]{1,20}") {
        let signed = Signer::new(&[secret]).unwrap().sign(&value);
        prop_assert_eq!(Signer::new(&[other]).unwrap().unsign(&signed), None);
    }

    #[test]
    fn unsign_never_panics(input in ".*", secrets in secrets()) {
        let _ = Signer::new(&secrets).unwrap().unsign(&input);
    }

    #[test]
    fn cookie_header_reading_never_panics(header in ".{0,300}", name in ".{0,10}") {
        let _ = find_cookie(&header, &name);
        let _ = decode_component(&header);
    }

    #[test]
    fn a_written_cookie_reads_back(value in ".{0,100}") {
        let header = serialize("sid", &value, &CookieAttributes::default()).unwrap();
        let read = find_cookie(&header, "sid").map(|v| v.into_owned());
        prop_assert_eq!(read, Some(value));
    }

    #[test]
    fn set_cookie_writing_never_panics(
        name in ".{0,10}", value in ".{0,50}", expires in any::<f64>(),
        domain in ".{0,20}", path in ".{0,20}", priority in ".{0,8}", same_site in ".{0,8}",
    ) {
        let attributes = CookieAttributes {
            expires: Some(expires),
            domain: Some(&domain),
            path: Some(&path),
            http_only: true,
            secure: true,
            partitioned: true,
            priority: Some(&priority),
            same_site: Some(&same_site),
        };
        let _ = serialize(&name, &value, &attributes);
    }
}
