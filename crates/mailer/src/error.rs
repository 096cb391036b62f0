//! What can go wrong while talking to an SMTP server, worded for the API client.
//!
//! `Display` is the text the web layer shows after "SMTP error: ": it names the failing
//! step and quotes the server's reply, and never holds the password or the message body.

use std::error::Error as _;
use std::io;
use std::time::Duration;

use lettre::transport::smtp::Error as SmtpError;

pub type Result<T, E = MailError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("connection refused")]
    ConnectionRefused,
    #[error("timed out after {}", seconds(.0))]
    Timeout(Duration),
    /// DNS failure, unreachable network, reset connection and the like.
    #[error("network error: {0}")]
    Network(String),
    #[error("connection closed by the server")]
    Disconnected,
    #[error("TLS handshake failed: {0}")]
    Tls(String),
    #[error("server does not offer STARTTLS")]
    StartTlsUnavailable,
    #[error("server offers no supported authentication mechanism (PLAIN, LOGIN)")]
    AuthUnsupported,
    #[error("authentication rejected: {0}")]
    AuthenticationRejected(String),
    /// Every recipient was refused; each `address: reply` is listed.
    #[error("recipient rejected: {0}")]
    RecipientRejected(String),
    /// Any other negative reply: to the greeting, STARTTLS, MAIL FROM or the message data.
    #[error("server rejected {step}: {reply}")]
    Rejected { step: &'static str, reply: String },
    #[error("invalid address: {0}")]
    InvalidAddress(String),
    #[error("invalid message: {0}")]
    InvalidMessage(String),
    #[error("invalid extra CA certificates: {0}")]
    BadCaFile(String),
    #[error("SMTP protocol error: {0}")]
    Protocol(String),
}

/// The SMTP exchange a lettre error came from; it decides what a negative reply means.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Step {
    Connect,
    StartTls,
    Auth,
    MailFrom,
    Data,
}

impl MailError {
    /// Maps a lettre error from `step`; `limit` is the timeout in force, for the message.
    pub(crate) fn from_smtp(err: &SmtpError, step: Step, limit: Duration) -> Self {
        if err.status().is_some() {
            let reply = reply_text(err);
            return match step {
                Step::Auth => Self::AuthenticationRejected(reply),
                Step::Connect => Self::Rejected {
                    step: "the connection",
                    reply,
                },
                Step::StartTls => Self::Rejected {
                    step: "STARTTLS",
                    reply,
                },
                Step::MailFrom => Self::Rejected {
                    step: "the sender",
                    reply,
                },
                Step::Data => Self::Rejected {
                    step: "the message",
                    reply,
                },
            };
        }
        if let Some(mapped) = from_source_chain(err, limit) {
            return mapped;
        }
        // lettre reads a closed socket as an empty response rather than an io error.
        let detail = err.source().map(ToString::to_string).unwrap_or_default();
        if err.is_response() && detail == "incomplete response" {
            return Self::Disconnected;
        }
        match step {
            Step::Connect | Step::StartTls if !detail.is_empty() => Self::Network(detail),
            _ => Self::Protocol(err.to_string()),
        }
    }
}

/// "535 5.7.8 bad credentials": the code and every line the server sent, as lettre joined them.
pub(crate) fn reply_text(err: &SmtpError) -> String {
    let code = err.status().map(|c| c.to_string()).unwrap_or_default();
    match err.source() {
        Some(text) => format!("{code} {text}").trim().to_owned(),
        None => code,
    }
}

/// lettre wraps io and rustls errors as the source of a "connection" or "network" error;
/// the io error's own `source()` skips its payload, so each io error is also opened by hand.
fn from_source_chain(err: &SmtpError, limit: Duration) -> Option<MailError> {
    let mut next = err.source();
    while let Some(current) = next {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return Some(MailError::Tls(tls.to_string()));
        }
        if let Some(io_err) = current.downcast_ref::<io::Error>() {
            let payload = io_err.get_ref();
            if let Some(tls) = payload.and_then(|p| p.downcast_ref::<rustls::Error>()) {
                return Some(MailError::Tls(tls.to_string()));
            }
            return Some(match io_err.kind() {
                io::ErrorKind::ConnectionRefused => MailError::ConnectionRefused,
                io::ErrorKind::TimedOut => MailError::Timeout(limit),
                // lettre's own reads report a closed socket as Ok(0); only a TLS
                // handshake cut short surfaces as an unexpected EOF.
                io::ErrorKind::UnexpectedEof => {
                    MailError::Tls("connection closed during the handshake".into())
                }
                _ => MailError::Network(io_err.to_string()),
            });
        }
        next = current.source();
    }
    None
}

fn seconds(limit: &Duration) -> String {
    if limit.subsec_millis() == 0 {
        format!("{}s", limit.as_secs())
    } else {
        format!("{}ms", limit.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_message_names_the_limit() {
        assert_eq!(
            MailError::Timeout(Duration::from_secs(10)).to_string(),
            "timed out after 10s"
        );
        assert_eq!(
            MailError::Timeout(Duration::from_millis(1500)).to_string(),
            "timed out after 1500ms"
        );
    }
}
