//! `Set-Cookie` header values, written as the `cookie` npm package (0.7) writes
//! them for express-session: `name=value` with the value percent-encoded like
//! `encodeURIComponent`, then Domain, Path, Expires, HttpOnly, Secure,
//! Partitioned, Priority and SameSite, in that order. Max-Age is never written.

use crate::time::write_http_date;

/// The attributes of a session cookie, as read from express-session's `cookie.data`.
#[derive(Debug, Default, Clone)]
pub struct CookieAttributes<'a> {
    /// Milliseconds since the epoch; `NaN` or out of range is an invalid date.
    pub expires: Option<f64>,
    pub domain: Option<&'a str>,
    pub path: Option<&'a str>,
    pub http_only: bool,
    pub secure: bool,
    pub partitioned: bool,
    pub priority: Option<&'a str>,
    pub same_site: Option<&'a str>,
}

/// The messages are the `cookie` package's, which express-session users see.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum SetCookieError {
    Name,
    Domain,
    Path,
    Expires,
    Priority,
    SameSite,
}

impl SetCookieError {
    pub fn message(self) -> &'static str {
        match self {
            SetCookieError::Name => "argument name is invalid",
            SetCookieError::Domain => "option domain is invalid",
            SetCookieError::Path => "option path is invalid",
            SetCookieError::Expires => "option expires is invalid",
            SetCookieError::Priority => "option priority is invalid",
            SetCookieError::SameSite => "option sameSite is invalid",
        }
    }
}

pub fn serialize(
    name: &str,
    value: &str,
    attributes: &CookieAttributes,
) -> Result<String, SetCookieError> {
    if !is_valid_name(name) {
        return Err(SetCookieError::Name);
    }
    let mut out = String::with_capacity(name.len() + value.len() * 3 / 2 + 96);
    out.push_str(name);
    out.push('=');
    encode_component(value, &mut out);

    if let Some(domain) = attributes.domain.filter(|d| !d.is_empty()) {
        if !is_valid_domain(domain) {
            return Err(SetCookieError::Domain);
        }
        out.push_str("; Domain=");
        out.push_str(domain);
    }
    if let Some(path) = attributes.path.filter(|p| !p.is_empty()) {
        if !path
            .bytes()
            .all(|b| (0x20..=0x7e).contains(&b) && b != b';' && b != b'<')
        {
            return Err(SetCookieError::Path);
        }
        out.push_str("; Path=");
        out.push_str(path);
    }
    if let Some(expires) = attributes.expires {
        out.push_str("; Expires=");
        write_http_date(expires, &mut out).ok_or(SetCookieError::Expires)?;
    }
    if attributes.http_only {
        out.push_str("; HttpOnly");
    }
    if attributes.secure {
        out.push_str("; Secure");
    }
    if attributes.partitioned {
        out.push_str("; Partitioned");
    }
    if let Some(priority) = attributes.priority.filter(|p| !p.is_empty()) {
        out.push_str(match priority.to_ascii_lowercase().as_str() {
            "low" => "; Priority=Low",
            "medium" => "; Priority=Medium",
            "high" => "; Priority=High",
            _ => return Err(SetCookieError::Priority),
        });
    }
    if let Some(same_site) = attributes.same_site.filter(|s| !s.is_empty()) {
        out.push_str(match same_site.to_ascii_lowercase().as_str() {
            "strict" => "; SameSite=Strict",
            "lax" => "; SameSite=Lax",
            "none" => "; SameSite=None",
            _ => return Err(SetCookieError::SameSite),
        });
    }
    Ok(out)
}

/// RFC 6265 token characters, the `cookie` package's name check.
fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Dot-separated labels of letters, digits and inner hyphens, at most 63 long,
/// with one optional leading dot.
fn is_valid_domain(domain: &str) -> bool {
    let labels = domain.strip_prefix('.').unwrap_or(domain);
    labels.split('.').all(|label| {
        let bytes = label.as_bytes();
        (1..=63).contains(&bytes.len())
            && bytes[0].is_ascii_alphanumeric()
            && bytes[bytes.len() - 1].is_ascii_alphanumeric()
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
    })
}

/// `encodeURIComponent`: everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )` as `%XX`.
pub fn encode_component(value: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = value.as_bytes();
    let mut run = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        if UNRESERVED[usize::from(byte)] {
            continue;
        }
        // A run of unreserved bytes is ASCII, so it is whole characters.
        if run < i {
            out.push_str(&value[run..i]);
        }
        out.push('%');
        out.push(HEX[usize::from(byte >> 4)] as char);
        out.push(HEX[usize::from(byte & 0xf)] as char);
        run = i + 1;
    }
    out.push_str(&value[run..]);
}

/// The bytes `encodeURIComponent` leaves as they are.
static UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
            );
        b += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_encode_uri_component() {
        let mut out = String::new();
        encode_component("s:a+b/c=.~*'()!_-é ;", &mut out);
        assert_eq!(out, "s%3Aa%2Bb%2Fc%3D.~*'()!_-%C3%A9%20%3B");
    }

    #[test]
    fn writes_attributes_in_the_cookie_package_order() {
        let attributes = CookieAttributes {
            expires: Some(0.0),
            domain: Some(".example.com"),
            path: Some("/admin"),
            http_only: true,
            secure: true,
            partitioned: true,
            priority: Some("HIGH"),
            same_site: Some("Lax"),
        };
        assert_eq!(
            serialize("connect.sid", "s:id.sig", &attributes).unwrap(),
            "connect.sid=s%3Aid.sig; Domain=.example.com; Path=/admin; \
             Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; Partitioned; \
             Priority=High; SameSite=Lax"
        );
    }

    #[test]
    fn leaves_out_empty_attributes() {
        let attributes = CookieAttributes {
            domain: Some(""),
            path: Some(""),
            priority: Some(""),
            same_site: Some(""),
            ..Default::default()
        };
        assert_eq!(serialize("a", "b", &attributes).unwrap(), "a=b");
    }

    #[test]
    fn rejects_what_the_cookie_package_rejects() {
        let plain = CookieAttributes::default();
        assert_eq!(serialize("a b", "v", &plain), Err(SetCookieError::Name));
        assert_eq!(serialize("", "v", &plain), Err(SetCookieError::Name));
        for domain in ["example.com.", "..a", "-a.com", "a_b.com", "a..b"] {
            let attributes = CookieAttributes {
                domain: Some(domain),
                ..Default::default()
            };
            assert_eq!(
                serialize("a", "v", &attributes),
                Err(SetCookieError::Domain),
                "{domain}"
            );
        }
        for path in ["/a;b", "/<", "/\n", "/é"] {
            let attributes = CookieAttributes {
                path: Some(path),
                ..Default::default()
            };
            assert_eq!(
                serialize("a", "v", &attributes),
                Err(SetCookieError::Path),
                "{path}"
            );
        }
        let attributes = CookieAttributes {
            expires: Some(f64::NAN),
            ..Default::default()
        };
        assert_eq!(
            serialize("a", "v", &attributes),
            Err(SetCookieError::Expires)
        );
        let attributes = CookieAttributes {
            priority: Some("urgent"),
            ..Default::default()
        };
        assert_eq!(
            serialize("a", "v", &attributes),
            Err(SetCookieError::Priority)
        );
        let attributes = CookieAttributes {
            same_site: Some("true"),
            ..Default::default()
        };
        assert_eq!(
            serialize("a", "v", &attributes),
            Err(SetCookieError::SameSite)
        );
    }
}
