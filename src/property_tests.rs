//! Property tests (proptest) of the cookie code, the record packing and the
//! memory store, over generated inputs. Unit tests rather than tests/, which
//! could not link the Node.js symbols the addon uses.

use crate::cookie::header::{decode_component, find_cookie};
use crate::cookie::set_cookie::{serialize, CookieAttributes};
use crate::cookie::signature::Signer;
use crate::cookie_member::cookie_member;
use crate::memory::record::{pack_into, unpack_into};
use crate::memory::store::SessionMap;
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

/// One step against the memory store and its model.
#[derive(Debug, Clone)]
enum StoreOp {
    Set(u8, String, Option<i64>),
    Touch(u8, i64),
    Destroy(u8),
    Get(u8),
    Sweep(usize),
    Wait(i64),
}

fn store_op() -> impl Strategy<Value = StoreOp> {
    let sid = 0u8..6;
    let json = prop_oneof![
        "[ -~]{0,30}".prop_map(|rest| format!(r#"{{"cookie":{{"path":"/"}},"v":{}}}"#, serde_json::Value::String(rest))),
        "\\PC{0,40}",
        Just(r#"{"n":1}"#.to_string()),
        Just(r#"{"cookie":{"originalMaxAge":1,"expires":"2030-01-01T00:00:00.000Z","httpOnly":true,"path":"/"},"when":"1999-12-31T23:59:59.999Z"}"#.to_string()),
    ];
    prop_oneof![
        (sid.clone(), json, prop::option::of(0i64..5_000))
            .prop_map(|(s, j, e)| StoreOp::Set(s, j, e)),
        (sid.clone(), 0i64..5_000).prop_map(|(s, e)| StoreOp::Touch(s, e)),
        sid.clone().prop_map(StoreOp::Destroy),
        sid.prop_map(StoreOp::Get),
        (0usize..4).prop_map(StoreOp::Sweep),
        (0i64..1_500).prop_map(StoreOp::Wait),
    ]
}

proptest! {
    #[test]
    fn packing_gives_back_any_text(text in "\\PC{0,200}|[\\x00-\\x7f]{0,80}") {
        let mut packed = Vec::new();
        pack_into(text.as_bytes(), &mut packed);
        let mut back = Vec::new();
        unpack_into(&packed, &mut back);
        prop_assert_eq!(back, text.into_bytes());
    }

    #[test]
    fn memory_store_matches_a_plain_map(ops in prop::collection::vec(store_op(), 1..80)) {
        use std::collections::HashMap;
        let mut store = SessionMap::new(None);
        let mut model: HashMap<String, (String, Option<i64>)> = HashMap::new();
        let mut now = 0i64;
        for op in ops {
            match op {
                StoreOp::Set(s, json, expires) => {
                    let expires = expires.map(|e| now + e);
                    store.set(&s.to_string(), &json, expires);
                    model.insert(s.to_string(), (json, expires));
                }
                StoreOp::Touch(s, e) => {
                    let sid = s.to_string();
                    let cookie = format!(r#"{{"path":"/t{e}"}}"#);
                    let live = model.get(&sid).filter(|(_, x)| x.is_none_or(|x| x > now)).cloned();
                    let expected = live.as_ref().and_then(|(json, _)| cookie_member(json).map(|m| {
                        format!("{}{}{}", &json[..m.start], cookie, &json[m.end..])
                    }));
                    let touched = store.touch(&sid, &cookie, Some(now + e), now);
                    prop_assert_eq!(touched, expected.is_some());
                    if let Some(json) = expected {
                        model.insert(sid, (json, Some(now + e)));
                    }
                }
                StoreOp::Destroy(s) => {
                    store.destroy(&s.to_string());
                    model.remove(&s.to_string());
                }
                StoreOp::Get(s) => {
                    let expected = model.get(&s.to_string()).filter(|(_, x)| x.is_none_or(|x| x > now)).map(|(j, _)| j.clone());
                    prop_assert_eq!(store.get(&s.to_string(), now), expected);
                }
                StoreOp::Sweep(budget) => {
                    store.sweep(now, budget);
                }
                StoreOp::Wait(ms) => now += ms,
            }
            let live = model.values().filter(|(_, x)| x.is_none_or(|x| x > now)).count();
            prop_assert_eq!(store.len(now), live);
        }
    }
}

proptest! {
    #[test]
    fn every_four_digit_year_date_packs_small_and_comes_back(ms in 0i64..253_402_300_800_000) {
        let days = ms.div_euclid(86_400_000);
        let (year, month, day) = crate::time::civil_from_days(days);
        let in_day = ms.rem_euclid(86_400_000);
        let text = format!(
            "\"{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z\"",
            in_day / 3_600_000, in_day / 60_000 % 60, in_day / 1000 % 60, in_day % 1000
        );
        let mut packed = Vec::new();
        pack_into(text.as_bytes(), &mut packed);
        prop_assert_eq!(packed.len(), 7);
        let mut back = Vec::new();
        unpack_into(&packed, &mut back);
        prop_assert_eq!(back, text.into_bytes());
    }
}
