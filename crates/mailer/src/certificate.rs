//! A server certificate in one line, for the `tls` step of `/test`.

use rustls::pki_types::CertificateDer;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::{clean, truncate};

/// The most kept of a name the server's certificate chose.
const MAX_NAME_CHARS: usize = 80;

/// `certificate CN=mail.example.com, issued by CN=R3,O=Let's Encrypt, expires 2027-03-01`.
/// The names are the peer's choice, so they are cleaned and cut like its SMTP replies.
pub(crate) fn describe(der: &CertificateDer<'_>) -> String {
    let Ok((_, cert)) = X509Certificate::from_der(der.as_ref()) else {
        return "certificate that does not parse".to_owned();
    };
    let not_after = cert.validity().not_after.timestamp();
    let expiry = chrono::DateTime::from_timestamp(not_after, 0).map_or_else(
        || "at an unreadable time".to_owned(),
        |t| t.format("%Y-%m-%d").to_string(),
    );
    let verb = if chrono::Utc::now().timestamp() > not_after {
        "expired"
    } else {
        "expires"
    };
    format!(
        "certificate {}, issued by {}, {verb} {expiry}",
        name(&cert.subject().to_string()),
        name(&cert.issuer().to_string()),
    )
}

fn name(text: &str) -> String {
    let cleaned = clean(text);
    if cleaned.is_empty() {
        return "(no name)".to_owned();
    }
    truncate(&cleaned, MAX_NAME_CHARS)
}
