//! What can go wrong while talking to an SMTP server, worded for the API client.
//!
//! `Display` is the text the web layer shows after "SMTP error: ": it names the failing
//! step and never holds the password or the message body. Of what the server sent, only
//! its reply lines (`ddd text`) are quoted, through [`clean`]: the peer may be anyone a
//! notifier points at, and its words end up in API responses and logs.

use std::error::Error as _;
use std::io;
use std::net::IpAddr;
use std::time::Duration;

use lettre::transport::smtp::Error as SmtpError;
use rustls::CertificateError;

pub type Result<T, E = MailError> = std::result::Result<T, E>;

/// The most an error quotes of the server's words, in characters (docs/API.md §11).
pub(crate) const MAX_QUOTED_CHARS: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("connection refused")]
    ConnectionRefused,
    /// One step (resolve, connect, a command and its reply) outlasted `smtp.timeout_secs`.
    #[error("timed out after {}", seconds(.0))]
    Timeout(Duration),
    /// The whole exchange outlasted `smtp.total_timeout_secs`.
    #[error("timed out after {} (smtp.total_timeout_secs)", seconds(.0))]
    TotalTimeout(Duration),
    /// DNS failure, unreachable network, reset connection and the like.
    #[error("network error: {0}")]
    Network(String),
    #[error("connection closed by the server")]
    Disconnected,
    /// The peer's bytes did not parse as SMTP replies (an SSH or HTTP server, say); what
    /// it sent is not repeated.
    #[error("the server did not answer as an SMTP server")]
    NotSmtp,
    #[error("destination {0} is not allowed by smtp.denied_networks")]
    DestinationDenied(IpAddr),
    #[error("destination {0} is not allowed by smtp.allowed_networks")]
    DestinationNotAllowed(IpAddr),
    #[error("destination port {0} is not allowed by smtp.allowed_ports")]
    PortNotAllowed(u16),
    #[error(
        "refusing to send the password without TLS to {0}; turn on use_tls or use_ssl, \
         or set smtp.allow_plaintext_auth = true"
    )]
    PlaintextAuth(IpAddr),
    #[error("TLS handshake failed: {0}")]
    Tls(String),
    /// The server's certificate did not verify (unknown issuer, expired, another name).
    #[error("TLS handshake failed: {text}")]
    TlsCertificate {
        text: String,
        problem: CertificateProblem,
    },
    /// The peer answered the TLS hello with something that is not TLS: usually an SMTP
    /// greeting in plain text, from a server that expects STARTTLS.
    #[error("TLS handshake failed: {0}")]
    TlsNotSpoken(String),
    /// The link dropped mid-handshake: a network fault, unlike a refused certificate.
    #[error("TLS handshake failed: connection closed during the handshake")]
    TlsInterrupted,
    #[error("server does not offer STARTTLS")]
    StartTlsUnavailable,
    /// The server offers AUTH, but neither PLAIN nor LOGIN.
    #[error("server offers no supported authentication mechanism (PLAIN, LOGIN)")]
    AuthUnsupported,
    /// The server offers no AUTH at all, and the notifier's method sends a password.
    #[error(
        "server offers no authentication; if this relay needs no login, set the notifier's \
         authentication method to \"none\""
    )]
    AuthNotOffered,
    /// The notifier logs in with XOAUTH2 and the server does not offer it.
    #[error("server does not offer AUTH XOAUTH2")]
    XOAuth2Unsupported,
    #[error("authentication rejected: {0}")]
    AuthenticationRejected(String),
    /// No access token: the endpoint refused, failed or could not be reached. `text` is
    /// `<error>: <error_description>` when it answered so.
    #[error("OAuth2 token endpoint: {text}")]
    OAuthToken { text: String, transient: bool },
    /// Every recipient was refused; each `address: reply` is listed in `text`.
    #[error("recipient rejected: {text}")]
    RecipientRejected {
        text: String,
        /// The first refusal's reply code.
        code: Option<u16>,
        /// Every refusal was a 4xx reply: worth trying again later.
        all_transient: bool,
    },
    /// Any other negative reply: to the greeting, STARTTLS, MAIL FROM or the message data.
    #[error("server rejected {step}: {reply}")]
    Rejected { step: &'static str, reply: String },
    #[error("invalid address: {0}")]
    InvalidAddress(String),
    #[error("invalid message: {0}")]
    InvalidMessage(String),
    /// The notifier's DKIM settings could not sign the message.
    #[error("DKIM signing failed: {0}")]
    Dkim(String),
    #[error("invalid extra CA certificates: {0}")]
    BadCaFile(String),
    #[error("SMTP protocol error: {0}")]
    Protocol(String),
}

impl MailError {
    /// Whether trying again later may succeed (docs/API.md §9): the connection failed
    /// (refused, reset, timed out, TLS handshake cut short) or the server answered 4xx.
    /// Everything else (5xx replies, a refused login, a bad address, a destination the
    /// policy forbids, a certificate that does not verify) fails the same way next time.
    pub fn is_transient(&self) -> bool {
        match self {
            MailError::ConnectionRefused
            | MailError::Timeout(_)
            | MailError::TotalTimeout(_)
            | MailError::Network(_)
            | MailError::Disconnected
            | MailError::TlsInterrupted => true,
            MailError::RecipientRejected { all_transient, .. } => *all_transient,
            MailError::OAuthToken { transient, .. } => *transient,
            MailError::AuthenticationRejected(_) | MailError::Rejected { .. } => self
                .reply_code()
                .is_some_and(|code| (400..500).contains(&code)),
            _ => false,
        }
    }

    /// The SMTP reply code of the failure, when the server answered with one.
    pub fn reply_code(&self) -> Option<u16> {
        match self {
            MailError::AuthenticationRejected(reply) | MailError::Rejected { reply, .. } => {
                leading_code(reply)
            }
            MailError::RecipientRejected { code, .. } => *code,
            _ => None,
        }
    }
}

/// The three-digit code a reply text starts with.
pub(crate) fn leading_code(reply: &str) -> Option<u16> {
    let digits = reply.get(..3)?;
    let followed_by_text = reply[3..]
        .chars()
        .next()
        .is_none_or(|c| c == ' ' || c == '-');
    (digits.bytes().all(|b| b.is_ascii_digit()) && followed_by_text)
        .then(|| digits.parse().ok())
        .flatten()
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
    /// Maps a socket error; `limit` is the timeout in force, for the message.
    pub(crate) fn from_io(err: &io::Error, limit: Duration) -> Self {
        match err.kind() {
            io::ErrorKind::ConnectionRefused => MailError::ConnectionRefused,
            io::ErrorKind::TimedOut => MailError::Timeout(limit),
            // lettre's own reads report a closed socket as Ok(0); only a TLS handshake
            // cut short surfaces as an unexpected EOF.
            io::ErrorKind::UnexpectedEof => MailError::TlsInterrupted,
            _ => MailError::Network(clean(&err.to_string())),
        }
    }

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
        // lettre's "response" errors without a code are replies it could not parse (or
        // that broke its limits); their text would quote the peer's bytes.
        if err.is_response() {
            // lettre reads a closed socket as an empty response rather than an io error.
            let closed = err
                .source()
                .is_some_and(|s| s.to_string() == "incomplete response");
            return if closed {
                Self::Disconnected
            } else {
                Self::NotSmtp
            };
        }
        if let Some(mapped) = from_source_chain(err, limit) {
            return mapped;
        }
        // What is left carries lettre's own words only; cleaned all the same.
        let detail = err.source().map(ToString::to_string).unwrap_or_default();
        match step {
            Step::Connect | Step::StartTls if !detail.is_empty() => Self::Network(clean(&detail)),
            _ => Self::Protocol(clean(&err.to_string())),
        }
    }
}

/// "535 5.7.8 bad credentials": the code and every line the server sent, as lettre joined
/// them, cleaned.
pub(crate) fn reply_text(err: &SmtpError) -> String {
    let code = err.status().map(|c| c.to_string()).unwrap_or_default();
    match err.source() {
        Some(text) => clean(&format!("{code} {text}")),
        None => code,
    }
}

/// Refused recipients as `address: reply; …`, quoting at most [`MAX_QUOTED_CHARS`] of
/// server text in all; recipients past that are counted, not listed.
pub(crate) fn refusals(refused: &[(String, String)]) -> String {
    let mut budget = MAX_QUOTED_CHARS;
    let mut parts = Vec::new();
    for (listed, (address, reply)) in refused.iter().enumerate() {
        if budget == 0 {
            parts.push(format!("and {} more", refused.len() - listed));
            break;
        }
        let reply = truncate(reply, budget);
        budget -= reply.chars().count();
        parts.push(format!("{address}: {reply}"));
    }
    parts.join("; ")
}

/// Text a peer may have influenced, made safe to show: control characters (and the
/// bidirectional overrides, which reorder what a reader sees) removed, ends trimmed, at
/// most [`MAX_QUOTED_CHARS`] characters.
pub(crate) fn clean(text: &str) -> String {
    let kept: String = text
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .collect();
    truncate(kept.trim(), MAX_QUOTED_CHARS)
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// At most `max` characters; a cut text ends with `…`, which counts.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A rustls error in words; a certificate's own names are left out (the peer chose them).
fn tls_text(err: &rustls::Error) -> String {
    match err {
        rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext {
            expected,
            ..
        }) => clean(&format!(
            "invalid peer certificate: certificate not valid for name {:?}",
            expected.to_str()
        )),
        other => clean(&other.to_string()),
    }
}

/// Why a server's certificate was refused, as far as a hint needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateProblem {
    /// Signed by a CA that is not trusted (a private CA, or self-signed).
    UnknownIssuer,
    /// Past its end of validity (or not yet valid).
    Expired,
    /// Valid, but for other host names.
    WrongName,
    Other,
}

impl CertificateProblem {
    fn of(err: &CertificateError) -> Self {
        match err {
            CertificateError::UnknownIssuer => Self::UnknownIssuer,
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => Self::Expired,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                Self::WrongName
            }
            _ => Self::Other,
        }
    }
}

impl MailError {
    /// A rustls error, sorted by what it says about the server.
    pub(crate) fn from_rustls(err: &rustls::Error) -> Self {
        let text = tls_text(err);
        match err {
            rustls::Error::InvalidCertificate(cert) => MailError::TlsCertificate {
                text,
                problem: CertificateProblem::of(cert),
            },
            rustls::Error::InvalidMessage(_) => MailError::TlsNotSpoken(text),
            _ => MailError::Tls(text),
        }
    }
}

/// lettre wraps io and rustls errors as the source of a "connection" or "network" error;
/// the io error's own `source()` skips its payload, so each io error is also opened by hand.
fn from_source_chain(err: &SmtpError, limit: Duration) -> Option<MailError> {
    let mut next = err.source();
    while let Some(current) = next {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return Some(MailError::from_rustls(tls));
        }
        if let Some(io_err) = current.downcast_ref::<io::Error>() {
            let payload = io_err.get_ref();
            if let Some(tls) = payload.and_then(|p| p.downcast_ref::<rustls::Error>()) {
                return Some(MailError::from_rustls(tls));
            }
            return Some(MailError::from_io(io_err, limit));
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

    #[test]
    fn total_timeout_message_names_the_key() {
        assert_eq!(
            MailError::TotalTimeout(Duration::from_secs(60)).to_string(),
            "timed out after 60s (smtp.total_timeout_secs)"
        );
    }

    #[test]
    fn policy_refusals_read_as_the_contract_says() {
        let cases = [
            (
                MailError::DestinationDenied(IpAddr::from([169, 254, 169, 254])),
                "destination 169.254.169.254 is not allowed by smtp.denied_networks",
            ),
            (
                MailError::PlaintextAuth(IpAddr::from([192, 0, 2, 10])),
                "refusing to send the password without TLS to 192.0.2.10; turn on use_tls or \
                 use_ssl, or set smtp.allow_plaintext_auth = true",
            ),
            (
                MailError::NotSmtp,
                "the server did not answer as an SMTP server",
            ),
        ];
        for (err, expected) in cases {
            assert_eq!(err.to_string(), expected);
        }
    }

    #[test]
    fn transient_failures_are_network_faults_and_4xx_replies() {
        let rejected = |reply: &str| MailError::Rejected {
            step: "the message",
            reply: reply.into(),
        };
        let transient = [
            MailError::ConnectionRefused,
            MailError::Timeout(Duration::from_secs(1)),
            MailError::Network("reset".into()),
            MailError::Disconnected,
            MailError::TlsInterrupted,
            rejected("451 4.7.1 greylisted"),
            MailError::AuthenticationRejected("454 4.7.0 try later".into()),
        ];
        for err in transient {
            assert!(err.is_transient(), "{err}");
        }
        let permanent = [
            rejected("550 5.7.1 no"),
            MailError::AuthenticationRejected("535 5.7.8 bad credentials".into()),
            MailError::InvalidAddress("x".into()),
            MailError::Tls("invalid peer certificate".into()),
            MailError::NotSmtp,
            MailError::DestinationDenied(IpAddr::from([169, 254, 169, 254])),
        ];
        for err in permanent {
            assert!(!err.is_transient(), "{err}");
        }
        assert_eq!(rejected("451 4.7.1 greylisted").reply_code(), Some(451));
        assert_eq!(rejected("5501 odd").reply_code(), None);
        assert_eq!(MailError::ConnectionRefused.reply_code(), None);
        assert_eq!(
            MailError::TlsInterrupted.to_string(),
            "TLS handshake failed: connection closed during the handshake"
        );
    }

    #[test]
    fn clean_drops_control_characters_and_bidi_overrides() {
        let cases = [
            ("550 plain text", "550 plain text"),
            ("550 \x1b[31mred\x1b[0m", "550 [31mred[0m"),
            ("550 a\0b\x07c\x7fd\u{85}e", "550 abcde"),
            ("550 tab\there", "550 tabhere"),
            ("550 evil\u{202e}txt.exe", "550 eviltxt.exe"),
            ("  550 trimmed \r\n", "550 trimmed"),
            ("550 Grüße ✓", "550 Grüße ✓"),
        ];
        for (raw, expected) in cases {
            assert_eq!(clean(raw), expected, "{raw:?}");
        }
    }

    #[test]
    fn clean_keeps_at_most_200_characters() {
        let long = format!("550 {}", "é".repeat(500));
        let cleaned = clean(&long);
        assert_eq!(cleaned.chars().count(), MAX_QUOTED_CHARS);
        assert!(
            cleaned.starts_with("550 éé") && cleaned.ends_with('…'),
            "{cleaned}"
        );
        let exact = "x".repeat(MAX_QUOTED_CHARS);
        assert_eq!(clean(&exact), exact, "200 characters are kept whole");
    }

    #[test]
    fn refusals_share_one_budget_of_quoted_text() {
        let one = [(
            "a@example.com".to_owned(),
            "550 5.1.1 no such user".to_owned(),
        )];
        assert_eq!(refusals(&one), "a@example.com: 550 5.1.1 no such user");

        let reply = clean(&format!("550 {}", "x".repeat(300)));
        let many: Vec<(String, String)> = (0..5)
            .map(|n| (format!("r{n}@example.com"), reply.clone()))
            .collect();
        let text = refusals(&many);
        assert_eq!(text, format!("r0@example.com: {reply}; and 4 more"));
        let quoted: usize = text
            .split("; ")
            .filter_map(|part| part.split_once(": "))
            .map(|(_, reply)| reply.chars().count())
            .sum();
        assert!(quoted <= MAX_QUOTED_CHARS, "{quoted}");
    }
}
