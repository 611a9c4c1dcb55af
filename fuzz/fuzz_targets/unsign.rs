//! Unsigning arbitrary input never panics and accepts nothing but what the
//! secret signed; signing then unsigning gives the value back.
#![no_main]

use express_session_rs::cookie::signature::Signer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let signer = Signer::new(&["fuzz secret", "second secret"]).expect("two secrets");
    if let Some(value) = signer.unsign(text) {
        assert_eq!(signer.sign(value), text, "accepted a value it did not sign");
    }
    assert_eq!(signer.unsign(&signer.sign(text)), Some(text));
});
