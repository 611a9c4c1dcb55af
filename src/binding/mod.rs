//! The Node.js surface of the crate, one file per concern. Every export runs
//! inside `guarded` (async ones inside napi-rs's own unwind guard), so a Rust
//! panic becomes a rejected Promise or a thrown JS Error instead of aborting
//! the user's server.

use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::{Error, Result, Status};
use napi_derive::napi;

pub mod cookie;
pub mod memory;
pub mod redis;

pub(crate) fn guarded<T>(body: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| {
        let detail = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
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
/// a thrown Error and leaves the process running. Not part of the public API.
#[napi(js_name = "__panicForTests")]
pub fn panic_for_tests(message: String) -> Result<()> {
    guarded(|| panic!("{message}"))
}
