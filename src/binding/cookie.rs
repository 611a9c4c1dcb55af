//! Cookies, signatures and session IDs.

use napi::bindgen_prelude::{Buffer, Either, External};
use napi::{Error, Result, Status};
use napi_derive::napi;

use super::{guarded, invalid_arg};
use crate::cookie::header::find_cookie;
use crate::cookie::set_cookie::{self, CookieAttributes};
use crate::cookie::signature::{RecentSignatures, Signer};

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
    fn split(self) -> (Option<f64>, OwnedAttributes) {
        let attributes = OwnedAttributes {
            domain: self.domain,
            path: self.path,
            http_only: self.http_only.unwrap_or(false),
            secure: self.secure.unwrap_or(false),
            partitioned: self.partitioned.unwrap_or(false),
            priority: self.priority,
            same_site: self.same_site,
        };
        (self.expires, attributes)
    }
}

fn serialize(name: &str, value: &str, attributes: &CookieAttributes) -> Result<String> {
    set_cookie::serialize(name, value, attributes).map_err(|error| invalid_arg(error.message()))
}

/// `cookie.serialize(name, value, options)` as the `cookie` package writes it.
/// Errors carry the `cookie` package's messages (JS rethrows them as TypeErrors).
#[napi]
pub fn serialize_cookie(name: String, value: String, options: CookieOptions) -> Result<String> {
    guarded(|| {
        let (expires, attributes) = options.split();
        serialize(&name, &value, &attributes.with_expires(expires))
    })
}

/// A new session ID: 24 bytes from the OS CSPRNG, base64url (32 characters).
#[napi]
pub fn generate_session_id() -> Result<String> {
    guarded(|| {
        crate::cookie::session_id::generate().map_err(|error| {
            Error::new(
                Status::GenericFailure,
                format!("could not read the OS random source: {error}"),
            )
        })
    })
}

/// Reads and writes the session cookie for one middleware: its name and secrets
/// are fixed, and each secret's HMAC key is prepared once.
///
/// JS holds it as an `External` and calls the `codec*` functions on it (lib/native.js
/// gives them back the shape of a class): a class method costs more per call in
/// napi-rs's class machinery, and these run on every request.
pub struct SessionCookieCodec {
    name: String,
    signer: Signer,
    /// The attributes of the last `setCookie`, for `setCookieExpiring`.
    last: Option<OwnedAttributes>,
    /// Signatures of IDs whose cookies were just verified, for their `Set-Cookie`.
    recent: RecentSignatures,
}

/// Cookie attributes kept between calls: they rarely change from one response
/// to the next, so JS sends them again only when they do.
struct OwnedAttributes {
    domain: Option<String>,
    path: Option<String>,
    http_only: bool,
    secure: bool,
    partitioned: bool,
    priority: Option<String>,
    same_site: Option<String>,
}

impl OwnedAttributes {
    fn with_expires(&self, expires: Option<f64>) -> CookieAttributes<'_> {
        CookieAttributes {
            expires,
            domain: self.domain.as_deref(),
            path: self.path.as_deref(),
            http_only: self.http_only,
            secure: self.secure,
            partitioned: self.partitioned,
            priority: self.priority.as_deref(),
            same_site: self.same_site.as_deref(),
        }
    }
}

type Codec = External<SessionCookieCodec>;

/// `secrets`: the first signs, all of them verify.
#[napi]
pub fn create_codec(name: String, secrets: Vec<Either<String, Buffer>>) -> Result<Codec> {
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
        Ok(External::new(SessionCookieCodec {
            name,
            signer,
            last: None,
            recent: RecentSignatures::default(),
        }))
    })
}

/// The session ID from a `Cookie` header: `null` when the cookie is missing,
/// empty, not signed (`s:` prefix) or signed with none of the secrets.
#[napi]
pub fn codec_read_id(codec: &mut Codec, header: String) -> Result<Option<String>> {
    guarded(|| {
        let codec = &mut **codec;
        Ok(find_cookie(&header, &codec.name).and_then(|value| {
            let signed = value.strip_prefix("s:")?;
            codec
                .signer
                .unsign_remembering(signed, Some(&mut codec.recent))
                .map(str::to_string)
        }))
    })
}

/// Verifies an already decoded cookie value (`s:id.signature`), as read from
/// cookie-parser's `req.cookies`; `null` when unsigned or forged.
#[napi]
pub fn codec_unsign(codec: &Codec, value: String) -> Result<Option<String>> {
    guarded(|| Ok(codec.unsign_value(&value).map(str::to_string)))
}

/// The `Set-Cookie` value carrying `s:` + the signed ID. The attributes come
/// as arguments, not an object, because this runs on every response that
/// sets the cookie; they are kept for `codecSetCookieExpiring`.
#[allow(clippy::too_many_arguments)]
#[napi]
pub fn codec_set_cookie(
    codec: &mut Codec,
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
        let attributes = OwnedAttributes {
            domain,
            path,
            http_only,
            secure,
            partitioned,
            priority,
            same_site,
        };
        let header = codec.signed_cookie(&id, &attributes.with_expires(expires))?;
        codec.last = Some(attributes);
        Ok(header)
    })
}

/// `codecSetCookie` with the attributes of the last call and a new expiry;
/// `null` when there was no successful call yet.
#[napi]
pub fn codec_set_cookie_expiring(
    codec: &Codec,
    id: String,
    expires: Option<f64>,
) -> Result<Option<String>> {
    guarded(|| {
        let Some(last) = &codec.last else {
            return Ok(None);
        };
        codec
            .signed_cookie(&id, &last.with_expires(expires))
            .map(Some)
    })
}

impl SessionCookieCodec {
    fn signed_cookie(&self, id: &str, attributes: &CookieAttributes) -> Result<String> {
        let mut signed = String::with_capacity(id.len() + 46);
        signed.push_str("s:");
        self.signer.sign_into(id, &mut signed, Some(&self.recent));
        serialize(&self.name, &signed, attributes)
    }

    fn unsign_value<'a>(&self, value: &'a str) -> Option<&'a str> {
        self.signer.unsign(value.strip_prefix("s:")?)
    }
}

/// Percent-decoding as the `cookie` package does it (`decodeURIComponent`, or
/// the input unchanged where that would throw), for the test that compares it
/// with the package. Only in the test addon (feature `test-hooks`).
#[cfg(feature = "test-hooks")]
#[napi]
pub fn decode_cookie_value(value: String) -> Result<String> {
    guarded(|| Ok(crate::cookie::header::decode_component(&value).into_owned()))
}
