//! The session cookie, as express-session and the npm packages it uses write it.

/// Reading one cookie out of a `Cookie` request header.
pub mod header;
/// Session IDs from the OS CSPRNG.
pub mod session_id;
/// `Set-Cookie` header values.
pub mod set_cookie;
/// Signed values in cookie-signature's format.
pub mod signature;
