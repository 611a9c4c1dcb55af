//! TLS to Redis with Node's option names: `ca`, `cert`, `key` (PEM),
//! `servername` (the name sent and checked, when it is not the URL's host) and
//! `rejectUnauthorized` (false: any certificate is taken, as in Node). Without
//! `ca`, Mozilla's roots are trusted, as Node trusts its bundled list.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// The options as given, PEM text each.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    pub ca: Vec<String>,
    pub cert: Option<String>,
    pub key: Option<String>,
    pub servername: Option<String>,
    pub reject_unauthorized: bool,
}

/// A client configuration built once from `TlsOptions` and shared by every
/// connection.
pub struct Tls {
    connector: TlsConnector,
    servername: Option<ServerName<'static>>,
    /// What the Cluster client needs to build its own (it takes PEM).
    pub options: TlsOptions,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("servername", &self.servername)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// Reads the certificates and the key; an error says which is unreadable.
    pub fn new(options: TlsOptions) -> Result<Tls, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|error| format!("tls: {error}"))?;
        let builder = if options.reject_unauthorized {
            builder.with_root_certificates(roots(&options.ca)?)
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
        };
        let config = match (&options.cert, &options.key) {
            (Some(cert), Some(key)) => builder
                .with_client_auth_cert(certificates(cert, "tls.cert")?, private_key(key)?)
                .map_err(|error| format!("tls.cert and tls.key do not go together: {error}"))?,
            (None, None) => builder.with_no_client_auth(),
            _ => return Err("tls.cert and tls.key must be given together".to_string()),
        };
        let servername = options.servername.as_deref().map(server_name).transpose()?;
        Ok(Tls {
            connector: TlsConnector::from(Arc::new(config)),
            servername,
            options,
        })
    }

    /// Opens TLS over `tcp` to `host` (or to `servername` when given).
    pub async fn wrap(&self, host: &str, tcp: TcpStream) -> std::io::Result<TlsStream<TcpStream>> {
        let name = match &self.servername {
            Some(name) => name.clone(),
            None => server_name(host).map_err(std::io::Error::other)?,
        };
        self.connector.connect(name, tcp).await
    }
}

fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    ServerName::try_from(host.to_string())
        .map_err(|_| format!("tls: {host:?} is not a valid server name"))
}

fn roots(ca: &[String]) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    if ca.is_empty() {
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        return Ok(store);
    }
    for pem in ca {
        for certificate in certificates(pem, "tls.ca")? {
            store.add(certificate).map_err(|error| {
                format!("tls.ca holds a certificate rustls cannot use: {error}")
            })?;
        }
    }
    Ok(store)
}

fn certificates(pem: &str, option: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certificates = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| format!("{option} is not readable PEM: {error}"))?;
    if certificates.is_empty() {
        return Err(format!("{option} holds no PEM certificate"));
    }
    Ok(certificates)
}

fn private_key(pem: &str) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_slice(pem.as_bytes())
        .map_err(|error| format!("tls.key is not a readable PEM private key: {error}"))
}

/// `rejectUnauthorized: false`: the server's certificate is not checked (the
/// handshake's signatures still are), as Node does.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_material_is_named() {
        let bad_ca = TlsOptions {
            ca: vec!["not a certificate".into()],
            reject_unauthorized: true,
            ..TlsOptions::default()
        };
        assert_eq!(
            Tls::new(bad_ca).unwrap_err(),
            "tls.ca holds no PEM certificate"
        );
        let half = TlsOptions {
            cert: Some("x".into()),
            reject_unauthorized: true,
            ..TlsOptions::default()
        };
        assert!(Tls::new(half).unwrap_err().contains("together"));
    }

    #[test]
    fn trusts_mozilla_roots_without_a_ca() {
        let tls = Tls::new(TlsOptions {
            reject_unauthorized: true,
            ..TlsOptions::default()
        });
        assert!(tls.is_ok());
    }
}
