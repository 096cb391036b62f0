//! Trust for SMTP TLS: the webpki roots plus the configured extra CAs, always verified.

use lettre::transport::smtp::client::{Certificate, CertificateStore, TlsParameters};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::error::{MailError, Result};

/// Parses `smtp.extra_ca_file` once at start-up, so that a broken file stops the server
/// instead of failing every TLS send later.
pub(crate) fn extra_roots(pem: Option<&[u8]>) -> Result<Vec<Certificate>> {
    let Some(pem) = pem else {
        return Ok(Vec::new());
    };
    let ders = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| MailError::BadCaFile(format!("not a PEM file: {e}")))?;
    if ders.is_empty() {
        return Err(MailError::BadCaFile("no CERTIFICATE block found".into()));
    }
    let mut roots = Vec::with_capacity(ders.len());
    for (index, der) in ders.into_iter().enumerate() {
        // lettre only parses the certificate when it builds a connection's root store.
        rustls::RootCertStore::empty()
            .add(der.clone())
            .map_err(|e| MailError::BadCaFile(format!("certificate {}: {e}", index + 1)))?;
        let root = Certificate::from_der(der.to_vec())
            .map_err(|e| MailError::BadCaFile(format!("certificate {}: {e}", index + 1)))?;
        roots.push(root);
    }
    Ok(roots)
}

/// TLS parameters for one connection to `host`; the name is checked against the certificate.
pub(crate) fn parameters(host: &str, extra_roots: &[Certificate]) -> Result<TlsParameters> {
    let builder = extra_roots.iter().cloned().fold(
        TlsParameters::builder(host.to_owned()).certificate_store(CertificateStore::WebpkiRoots),
        |builder, root| builder.add_root_certificate(root),
    );
    builder
        .build_rustls()
        .map_err(|e| MailError::Tls(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_extra_file_means_webpki_roots_only() {
        assert!(matches!(extra_roots(None), Ok(roots) if roots.is_empty()));
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
                matches!(extra_roots(Some(pem)), Err(MailError::BadCaFile(_))),
                "{case}"
            );
        }
    }
}
