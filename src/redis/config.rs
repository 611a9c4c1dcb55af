//! Where the store connects and as whom, read once when it is made, so that a
//! wrong URL, scheme or TLS file is an error at start, not a silent failure on
//! the first request.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use redis::{ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo};

use super::tls::{Tls, TlsOptions};

/// The name and version `CLIENT LIST` shows for our connections.
const LIBRARY: (&str, &str) = ("express-session-rs", env!("CARGO_PKG_VERSION"));

#[derive(Debug, Clone)]
pub struct RedisConfig {
    pub target: Target,
    pub prefix: String,
    pub scan_count: u32,
    pub connect_timeout: Duration,
    pub command_timeout: Duration,
}

#[derive(Debug, Clone)]
pub enum Target {
    Server(Endpoint),
    Cluster(ClusterNodes),
    /// The master the Sentinels name `name`; its address is found when
    /// connecting, `master` says how to talk to it.
    Sentinel {
        sentinels: Vec<Endpoint>,
        name: String,
        master: Handshake,
    },
}

/// One server: where, over TLS or not, and the handshake (user, password, db).
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub address: Address,
    pub tls: Option<Arc<Tls>>,
    pub settings: RedisConnectionInfo,
}

/// How to talk to a server whose address is learned later: TLS and the
/// handshake (user, password, db).
#[derive(Debug, Clone)]
pub struct Handshake {
    pub tls: Option<Arc<Tls>>,
    pub settings: RedisConnectionInfo,
}

impl Handshake {
    /// With the given credentials, on database 0.
    pub fn new(credentials: &Credentials, tls: Option<Arc<Tls>>) -> Handshake {
        Handshake {
            tls,
            settings: settings_for(RedisConnectionInfo::default(), credentials),
        }
    }

    /// An endpoint at `host:port` (the master a Sentinel named).
    pub fn at(&self, host: String, port: u16) -> Endpoint {
        Endpoint {
            address: Address::Tcp { host, port },
            tls: self.tls.clone(),
            settings: self.settings.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Address {
    Tcp { host: String, port: u16 },
    Unix(PathBuf),
}

#[derive(Debug, Clone)]
pub struct ClusterNodes {
    pub urls: Vec<String>,
    pub tls: Option<Arc<Tls>>,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// Credentials given as options; they win over those in a URL.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub username: Option<String>,
    pub password: Option<String>,
}

/// The TLS options, read; `None` when none were given.
pub fn tls_of(options: Option<TlsOptions>) -> Result<Option<Arc<Tls>>, String> {
    options
        .map(|options| Tls::new(options).map(Arc::new))
        .transpose()
}

/// Reads a `redis://`, `rediss://` or `unix://` URL. `tls` (the `tls`
/// option) turns TLS on whatever the scheme; `rediss://` alone trusts
/// Mozilla's roots (or nothing, with `#insecure`).
pub fn endpoint(
    url: &str,
    credentials: &Credentials,
    tls: Option<&Arc<Tls>>,
) -> Result<Endpoint, String> {
    let info = url
        .into_connection_info()
        .map_err(|error| format!("{url:?} is not a Redis URL ({error})"))?;
    let settings = settings_for(info.redis_settings().clone(), credentials);
    let (address, tls) = match info.addr() {
        ConnectionAddr::Tcp(host, port) => (tcp(host, *port), tls.cloned()),
        ConnectionAddr::TcpTls {
            host,
            port,
            insecure,
            ..
        } => {
            let tls = match tls {
                Some(tls) => Arc::clone(tls),
                None => Arc::new(Tls::new(TlsOptions {
                    reject_unauthorized: !insecure,
                    ..TlsOptions::default()
                })?),
            };
            (tcp(host, *port), Some(tls))
        }
        ConnectionAddr::Unix(path) => {
            if tls.is_some() {
                return Err("tls does not apply to a Unix socket".to_string());
            }
            (Address::Unix(path.clone()), None)
        }
        _ => return Err(format!("{url:?}: this kind of address is not supported")),
    };
    Ok(Endpoint {
        address,
        tls,
        settings,
    })
}

/// `base` (what a URL gave) with the credentials options and our library name.
fn settings_for(base: RedisConnectionInfo, credentials: &Credentials) -> RedisConnectionInfo {
    let mut settings = base.set_lib_name(LIBRARY.0, LIBRARY.1);
    if let Some(username) = &credentials.username {
        settings = settings.set_username(username);
    }
    if let Some(password) = &credentials.password {
        settings = settings.set_password(password);
    }
    settings
}

fn tcp(host: &str, port: u16) -> Address {
    // The URL parser keeps an IPv6 host's brackets.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Address::Tcp {
        host: host.to_string(),
        port,
    }
}

impl Endpoint {
    pub fn describe(&self) -> String {
        match &self.address {
            Address::Tcp { host, port } if host.contains(':') => format!("[{host}]:{port}"),
            Address::Tcp { host, port } => format!("{host}:{port}"),
            Address::Unix(path) => path.display().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_host_port_db_and_credentials() {
        let endpoint = endpoint(
            "redis://ann:secret@localhost:6380/3",
            &Credentials::default(),
            None,
        )
        .unwrap();
        assert_eq!(
            endpoint.address,
            Address::Tcp {
                host: "localhost".into(),
                port: 6380
            }
        );
        assert_eq!(endpoint.settings.db(), 3);
        assert_eq!(endpoint.settings.username(), Some("ann"));
        assert_eq!(endpoint.settings.password(), Some("secret"));
        assert!(endpoint.tls.is_none());
    }

    #[test]
    fn options_win_over_the_url() {
        let credentials = Credentials {
            username: Some("bob".into()),
            password: Some("other".into()),
        };
        let endpoint = endpoint("redis://ann:secret@localhost", &credentials, None).unwrap();
        assert_eq!(endpoint.settings.username(), Some("bob"));
        assert_eq!(endpoint.settings.password(), Some("other"));
    }

    #[test]
    fn rediss_means_tls() {
        let endpoint =
            endpoint("rediss://cache.example:6380", &Credentials::default(), None).unwrap();
        assert!(endpoint.tls.is_some());
        assert_eq!(endpoint.describe(), "cache.example:6380");
    }

    #[test]
    fn refuses_what_is_not_a_redis_url() {
        for url in ["not a url", "http://localhost:6379", "redis://", ""] {
            assert!(
                endpoint(url, &Credentials::default(), None).is_err(),
                "{url}"
            );
        }
    }
}
