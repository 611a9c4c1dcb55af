//! Unsigns a forged cookie many times, its one wrong character at the start
//! (`head`) or at the end (`tail`) of the signature; the two arguments have the
//! same length so that reading them costs the same. Run under
//! `valgrind --tool=callgrind` by `__test__/constant-time.test.js`: a comparison
//! that stops at the first difference executes more instructions for `tail`.

use express_session_rs::cookie::signature::Signer;

fn main() {
    let position = std::env::args().nth(1).unwrap_or_default();
    let signer = Signer::new(&["probe secret"]).expect("one secret");
    let signed = signer.sign("abcdefghijklmnopqrstuvwxyz012345");
    let dot = signed.rfind('.').expect("a signature");
    let mut forged = signed.into_bytes();
    let at = if position == "tail" {
        forged.len() - 1
    } else {
        dot + 1
    };
    forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).expect("ASCII");

    let mut accepted = 0;
    for _ in 0..2000 {
        if signer.unsign(std::hint::black_box(&forged)).is_some() {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 0, "a forged signature was accepted");
}
