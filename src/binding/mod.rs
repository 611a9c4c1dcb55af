//! The Node.js surface of the crate, one file per concern. Every export runs
//! inside `guarded`, and every Redis command inside the IO thread's own guard,
//! so a Rust panic becomes a thrown JS Error or an error reply instead of
//! aborting the user's server.

use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::{Error, Result, Status};
#[cfg(feature = "test-hooks")]
use napi_derive::napi;

pub mod cookie;
pub mod memory;
pub mod redis;

pub(crate) fn guarded<T>(body: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| {
        let detail = crate::panic_detail(payload.as_ref());
        Err(Error::new(
            Status::GenericFailure,
            format!("express-session-rs internal error: {detail}"),
        ))
    })
}

pub(crate) fn invalid_arg(message: &str) -> Error {
    Error::new(Status::InvalidArg, message.to_string())
}

/// Panics inside the guard, for the test that proves a Rust panic reaches JS as
/// a thrown Error and leaves the process running. Only in the test addon
/// (feature `test-hooks`), never in a release binary.
#[cfg(feature = "test-hooks")]
#[napi(js_name = "__panicForTests")]
pub fn panic_for_tests(message: String) -> Result<()> {
    guarded(|| panic!("{message}"))
}
