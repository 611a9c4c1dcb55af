//! The Node.js surface of the crate. Every export runs inside `guarded`, so a
//! Rust panic becomes a thrown JS Error instead of aborting the user's server.

use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::bindgen_prelude::{Buffer, Either};
use napi::{Error, Result, Status};
use napi_derive::napi;

use crate::cookie_header::{decode_component, find_cookie};
use crate::digest::session_digest;
use crate::memory_store::{to_millis, SessionMap};
use crate::set_cookie::{self, CookieAttributes};
use crate::signature::Signer;

fn guarded<T>(body: impl FnOnce() -> Result<T>) -> Result<T> {
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

fn invalid_arg(message: &str) -> Error {
    Error::new(Status::InvalidArg, message.to_string())
}

/// Attributes of a cookie, in the order `cookie.serialize` reads them.
/// `expires` is milliseconds since the epoch (`NaN` for an invalid date).
#[napi(object, object_to_js = false)]
pub struct CookieOptions {
    pub expires: Option<f64>,
    pub domain: Option<String>,
    pub path: Option<String>,
    pub http_only: Option<bool>,
    pub secure: Option<bool>,
    pub partitioned: Option<bool>,
    pub priority: Option<String>,
    pub same_site: Option<String>,
}

impl CookieOptions {
    fn attributes(&self) -> CookieAttributes<'_> {
        CookieAttributes {
            expires: self.expires,
            domain: self.domain.as_deref(),
            path: self.path.as_deref(),
            http_only: self.http_only.unwrap_or(false),
            secure: self.secure.unwrap_or(false),
            partitioned: self.partitioned.unwrap_or(false),
            priority: self.priority.as_deref(),
            same_site: self.same_site.as_deref(),
        }
    }
}

fn serialize(name: &str, value: &str, attributes: &CookieAttributes) -> Result<String> {
    set_cookie::serialize(name, value, attributes).map_err(|error| invalid_arg(error.message()))
}

/// `cookie.serialize(name, value, options)` as the `cookie` package writes it.
/// Errors carry the `cookie` package's messages (JS rethrows them as TypeErrors).
#[napi]
pub fn serialize_cookie(name: String, value: String, options: CookieOptions) -> Result<String> {
    guarded(|| serialize(&name, &value, &options.attributes()))
}

/// A new session ID: 24 bytes from the OS CSPRNG, base64url (32 characters).
#[napi]
pub fn generate_session_id() -> Result<String> {
    guarded(|| {
        crate::session_id::generate().map_err(|error| {
            Error::new(
                Status::GenericFailure,
                format!("could not read the OS random source: {error}"),
            )
        })
    })
}

/// The dirty-check digest of a serialized session (its `cookie` left out).
#[napi]
pub fn session_digest_of(json: String) -> Result<String> {
    guarded(|| Ok(session_digest(&json)))
}

/// Reads and writes the session cookie for one middleware: its name and secrets
/// are fixed, and each secret's HMAC key is prepared once.
#[napi]
pub struct SessionCookieCodec {
    name: String,
    signer: Signer,
}

#[napi]
impl SessionCookieCodec {
    /// `secrets`: the first signs, all of them verify.
    #[napi(constructor)]
    pub fn new(name: String, secrets: Vec<Either<String, Buffer>>) -> Result<Self> {
        guarded(|| {
            let keys: Vec<Vec<u8>> = secrets
                .iter()
                .map(|secret| match secret {
                    Either::A(text) => text.as_bytes().to_vec(),
                    Either::B(bytes) => bytes.to_vec(),
                })
                .collect();
            let signer = Signer::new(&keys)
                .map_err(|_| invalid_arg("secret option array must contain one or more strings"))?;
            Ok(SessionCookieCodec { name, signer })
        })
    }

    /// The session ID from a `Cookie` header: `null` when the cookie is missing,
    /// empty, not signed (`s:` prefix) or signed with none of the secrets.
    #[napi]
    pub fn read_id(&self, header: String) -> Result<Option<String>> {
        guarded(|| {
            Ok(find_cookie(&header, &self.name)
                .and_then(|value| self.unsign_value(&value).map(str::to_string)))
        })
    }

    /// Verifies an already decoded cookie value (`s:id.signature`), as read from
    /// cookie-parser's `req.cookies`; `null` when unsigned or forged.
    #[napi]
    pub fn unsign(&self, value: String) -> Result<Option<String>> {
        guarded(|| Ok(self.unsign_value(&value).map(str::to_string)))
    }

    /// The `Set-Cookie` value carrying `s:` + the signed ID. The attributes come
    /// as arguments, not an object, because this runs on every response that
    /// sets the cookie.
    #[allow(clippy::too_many_arguments)]
    #[napi]
    pub fn set_cookie(
        &self,
        id: String,
        expires: Option<f64>,
        domain: Option<String>,
        path: Option<String>,
        http_only: bool,
        secure: bool,
        partitioned: bool,
        priority: Option<String>,
        same_site: Option<String>,
    ) -> Result<String> {
        guarded(|| {
            let signed = format!("s:{}", self.signer.sign(&id));
            let attributes = CookieAttributes {
                expires,
                domain: domain.as_deref(),
                path: path.as_deref(),
                http_only,
                secure,
                partitioned,
                priority: priority.as_deref(),
                same_site: same_site.as_deref(),
            };
            serialize(&self.name, &signed, &attributes)
        })
    }
}

impl SessionCookieCodec {
    fn unsign_value<'a>(&self, value: &'a str) -> Option<&'a str> {
        self.signer.unsign(value.strip_prefix("s:")?)
    }
}

/// Percent-decoding as the `cookie` package does it (`decodeURIComponent`, or
/// the input unchanged where that would throw). Exposed for tests.
#[napi]
pub fn decode_cookie_value(value: String) -> Result<String> {
    guarded(|| Ok(decode_component(&value).into_owned()))
}

/// The native memory store's data. JS wraps it in the `MemoryStore` class, which
/// gives it express-session's callback API.
#[napi]
pub struct NativeMemoryStore {
    sessions: SessionMap,
}

#[napi]
impl NativeMemoryStore {
    /// `max`: the most sessions kept; the least recently written go first.
    #[napi(constructor)]
    pub fn new(max: Option<u32>) -> Result<Self> {
        guarded(|| {
            Ok(NativeMemoryStore {
                sessions: SessionMap::new(max.map(|m| m as usize)),
            })
        })
    }

    #[napi]
    pub fn get(&mut self, sid: String, now: f64) -> Result<Option<String>> {
        guarded(|| {
            Ok(self
                .sessions
                .get(&sid, to_millis(now).unwrap_or(i64::MIN))
                .map(str::to_string))
        })
    }

    /// `expires`: when the session expires (ms since the epoch), `NaN` for never.
    #[napi]
    pub fn set(&mut self, sid: String, json: String, expires: f64) -> Result<()> {
        guarded(|| {
            self.sessions.set(&sid, &json, to_millis(expires));
            Ok(())
        })
    }

    #[napi]
    pub fn touch(
        &mut self,
        sid: String,
        cookie_json: String,
        expires: f64,
        now: f64,
    ) -> Result<bool> {
        guarded(|| {
            Ok(self.sessions.touch(
                &sid,
                &cookie_json,
                to_millis(expires),
                to_millis(now).unwrap_or(i64::MIN),
            ))
        })
    }

    #[napi]
    pub fn destroy(&mut self, sid: String) -> Result<()> {
        guarded(|| {
            self.sessions.destroy(&sid);
            Ok(())
        })
    }

    #[napi]
    pub fn clear(&mut self) -> Result<()> {
        guarded(|| {
            self.sessions.clear();
            Ok(())
        })
    }

    #[napi]
    pub fn length(&mut self, now: f64) -> Result<u32> {
        guarded(|| {
            let count = self.sessions.len(to_millis(now).unwrap_or(i64::MIN));
            Ok(u32::try_from(count).unwrap_or(u32::MAX))
        })
    }

    /// Every live session as one JSON object text, `{ "<sid>": <session>, ... }`,
    /// so that JS parses it in one `JSON.parse`.
    #[napi]
    pub fn all_json(&mut self, now: f64) -> Result<String> {
        guarded(|| {
            let mut out = String::from("{");
            for (index, (sid, json)) in self
                .sessions
                .all(to_millis(now).unwrap_or(i64::MIN))
                .enumerate()
            {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(
                    &serde_json::to_string(sid)
                        .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))?,
                );
                out.push(':');
                out.push_str(json);
            }
            out.push('}');
            Ok(out)
        })
    }

    /// Drops at most `budget` expired sessions; returns how many went.
    #[napi]
    pub fn sweep(&mut self, now: f64, budget: u32) -> Result<u32> {
        guarded(|| {
            let dropped = self
                .sessions
                .sweep(to_millis(now).unwrap_or(i64::MIN), budget as usize);
            Ok(u32::try_from(dropped).unwrap_or(u32::MAX))
        })
    }
}

/// Panics inside the guard, for the test that proves a Rust panic reaches JS as
/// a thrown Error and leaves the process running. Not part of the public API.
#[napi(js_name = "__panicForTests")]
pub fn panic_for_tests(message: String) -> Result<()> {
    guarded(|| panic!("{message}"))
}
