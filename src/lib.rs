//! express-session-rs: the native half of a drop-in replacement for express-session.
//!
//! Everything but `binding` is plain Rust with its own unit tests; `binding` is
//! the only place that knows about Node.js.

/// Conditional saves: what a save requires of the stored session, and what it found.
pub mod conditional_save;
/// The session cookie: reading `Cookie`, writing `Set-Cookie`, signatures, IDs.
pub mod cookie;
/// Where a serialized session's `cookie` member is: for record packing and the dirty check.
pub mod cookie_member;
/// The native memory store: packed records in pages, filed by expiry.
pub mod memory;
/// The Redis store and the IO thread that runs its commands.
pub mod redis;
/// Civil dates: HTTP dates for `Expires`, ISO dates as `JSON.stringify` writes them.
pub mod time;
/// LEB128 variable-length integers, for the lengths in stored records.
pub mod varint;

/// The Node.js surface (napi-rs): the only code that knows about Node.js.
#[cfg(feature = "node")]
pub mod binding;

#[cfg(test)]
mod property_tests;

/// The message a panic carried, for the error that replaces it.
pub(crate) fn panic_detail(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}
