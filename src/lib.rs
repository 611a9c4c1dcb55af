//! express-session-rs: the native half of a drop-in replacement for express-session.
//!
//! The modules below the binding are plain Rust with their own unit tests; `binding`
//! is the only place that knows about Node.js.

pub mod cookie_header;
pub mod digest;
pub mod json_object;
pub mod memory_store;
pub mod record_arena;
pub mod redis_dispatch;
pub mod redis_store;
pub mod session_id;
pub mod session_record;
pub mod set_cookie;
pub mod signature;

#[cfg(feature = "node")]
pub mod binding;

#[cfg(test)]
mod properties;

/// The message a panic carried, for the error that replaces it.
pub(crate) fn panic_detail(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}
