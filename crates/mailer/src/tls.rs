//! Trust for SMTP TLS and the token endpoint: the webpki roots plus the configured extra
//! CAs, always verified; and the handshake itself, done here rather than by lettre so that
//! the root store is built once (not per connection), the handshake is a step of its own,
//! and `/test` can name the certificate the server showed — also one that failed.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::error::{MailError, Result};

/// The roots and the verifier, made once at start-up; a broken `smtp.extra_ca_file` stops
/// the server instead of failing every TLS send later.
#[derive(Clone)]
pub(crate) struct Trust {
    verifier: Arc<WebPkiServerVerifier>,
    config: Arc<ClientConfig>,
}

/// The certificate a server presented, kept by a [`Recorder`] whether or not it verified.
pub(crate) type Presented = Arc<Mutex<Option<CertificateDer<'static>>>>;

impl Trust {
    pub(crate) fn new(extra_ca_pem: Option<&[u8]>) -> Result<Self> {
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        for (index, der) in extra_roots(extra_ca_pem)?.into_iter().enumerate() {
            roots
                .add(der)
                .map_err(|e| MailError::BadCaFile(format!("certificate {}: {e}", index + 1)))?;
        }
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(|e| MailError::BadCaFile(e.to_string()))?;
        let config = Arc::new(config_with(verifier.clone())?);
        Ok(Self { verifier, config })
    }

    /// The client configuration every connection shares (SMTP and the token endpoint).
    pub(crate) fn config(&self) -> Arc<ClientConfig> {
        Arc::clone(&self.config)
    }

    /// Secures `stream` to `host`, whose name (or IP literal) the certificate must match.
    /// With `presented`, the server's certificate is kept there, verified or not.
    pub(crate) async fn handshake<S>(
        &self,
        stream: S,
        host: &str,
        presented: Option<&Presented>,
    ) -> Result<TlsStream<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let name = ServerName::try_from(host.to_owned())
            .map_err(|_| MailError::Tls(format!("{host:?} is not a valid TLS server name")))?;
        let config = match presented {
            None => self.config(),
            Some(slot) => Arc::new(config_with(Arc::new(Recorder {
                inner: self.verifier.clone(),
                presented: Arc::clone(slot),
            }))?),
        };
        TlsConnector::from(config)
            .connect(name, stream)
            .await
            .map_err(|e| MailError::from_tls_io(&e))
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    // Explicit, so that no process-wide default provider is needed.
    Arc::new(rustls::crypto::ring::default_provider())
}

fn config_with(verifier: Arc<dyn ServerCertVerifier>) -> Result<ClientConfig> {
    Ok(ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| MailError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// The webpki verifier, unchanged, that also keeps the end-entity certificate it was shown.
#[derive(Debug)]
struct Recorder {
    inner: Arc<WebPkiServerVerifier>,
    presented: Presented,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        *self
            .presented
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(end_entity.clone().into_owned());
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Parses `smtp.extra_ca_file`: every block must be a certificate, and there must be one.
fn extra_roots(pem: Option<&[u8]>) -> Result<Vec<CertificateDer<'static>>> {
    let Some(pem) = pem else {
        return Ok(Vec::new());
    };
    let ders = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| MailError::BadCaFile(format!("not a PEM file: {e}")))?;
    if ders.is_empty() {
        return Err(MailError::BadCaFile("no CERTIFICATE block found".into()));
    }
    Ok(ders)
}

impl MailError {
    /// Maps a failed handshake: tokio-rustls carries rustls' own error inside the io error.
    pub(crate) fn from_tls_io(err: &io::Error) -> Self {
        match err
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>())
        {
            Some(tls) => MailError::from_rustls(tls),
            // A link cut mid-handshake: a network fault, not a refused certificate.
            None if err.kind() == io::ErrorKind::UnexpectedEof => MailError::TlsInterrupted,
            None => MailError::Network(crate::error::clean(&err.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_extra_file_means_webpki_roots_only() {
        assert!(matches!(extra_roots(None), Ok(roots) if roots.is_empty()));
        assert!(Trust::new(None).is_ok());
    }

    #[test]
    fn unusable_pem_is_rejected() {
        let cases: [(&[u8], &str); 3] = [
            (b"", "empty file"),
            (b"hello, not a certificate\n", "no PEM block"),
            (
                b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                "PEM block that is not a certificate",
            ),
        ];
        for (pem, case) in cases {
            assert!(
                matches!(Trust::new(Some(pem)), Err(MailError::BadCaFile(_))),
                "{case}"
            );
        }
    }
}
