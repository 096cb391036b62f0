//! Known mistakes and their fixes: the `hint` of a failed `/test` (docs/API.md §10).
//!
//! Each row reads the error, the step it happened in and the notifier's settings; the
//! first that matches gives the hint. A failure no row knows has no hint: the error
//! itself is then all there is to say.

use crate::error::{CertificateProblem, MailError};
use crate::settings::{SmtpAuth, SmtpSettings, TlsMode};
use crate::trace::{StepName, Trace};

const SET_STARTTLS: &str = "set use_tls to true and use_ssl to false";
const SET_IMPLICIT: &str = "set use_ssl to true and use_tls to false";

/// The suggested fix for `err`, when it is a known mistake.
pub(crate) fn hint(err: &MailError, settings: &SmtpSettings, trace: &Trace) -> Option<String> {
    let port = settings.port;
    let failed = trace.failed();
    let hint = match err {
        MailError::TlsNotSpoken(_) if settings.tls == TlsMode::Implicit => format!(
            "The server answered in plain text, so port {port} expects STARTTLS, not implicit \
             TLS: {SET_STARTTLS} (587 is the usual STARTTLS port)."
        ),
        // Against implicit TLS a plain client waits for a greeting the server never sends:
        // the server waits for a TLS hello.
        MailError::Timeout(_) | MailError::TotalTimeout(_)
            if settings.tls != TlsMode::Implicit
                && failed == Some(StepName::Ehlo)
                && !trace.passed(StepName::Ehlo) =>
        {
            format!(
                "The server sent no SMTP greeting in plain text: port {port} probably expects \
                 implicit TLS (SMTPS): {SET_IMPLICIT} (465 is the usual implicit-TLS port)."
            )
        }
        MailError::NotSmtp => format!(
            "Whatever listens on {}:{port} is not an SMTP server: check the port (587 for \
             STARTTLS, 465 for implicit TLS, 25 between servers).",
            settings.host
        ),
        MailError::StartTlsUnavailable => format!(
            "The server does not offer STARTTLS on port {port}. If it expects implicit TLS \
             (usually port 465), {SET_IMPLICIT}."
        ),
        _ if settings.tls == TlsMode::None && requires_starttls(err, trace) => {
            format!("The server wants STARTTLS before it accepts a login or mail: {SET_STARTTLS}.")
        }
        MailError::TlsCertificate { problem, .. } => match problem {
            CertificateProblem::UnknownIssuer => "The server's certificate is signed by a CA \
                this service does not trust. If it is a private or internal CA, add its \
                certificate to the file named by smtp.extra_ca_file and restart the service."
                .to_owned(),
            CertificateProblem::Expired => "The server's certificate has expired (or is not \
                valid yet): its administrator must renew it."
                .to_owned(),
            CertificateProblem::WrongName => format!(
                "The server's certificate does not name {:?}: set the notifier's host to a \
                 name the certificate lists.",
                settings.host
            ),
            CertificateProblem::Other => "The server's certificate was refused; if it comes \
                from a private CA, add that CA to smtp.extra_ca_file."
                .to_owned(),
        },
        MailError::AuthNotOffered => "The server offers no authentication. If this relay \
            accepts mail from this host without a login, set the notifier's authentication \
            method to \"none\"."
            .to_owned(),
        MailError::AuthenticationRejected(_) if err.reply_code() == Some(535) => {
            match settings.auth {
                SmtpAuth::XOAuth2(_) => "The server refused the OAuth2 access token: check \
                    that the username is the mailbox the token may send as, and the scope \
                    (https://outlook.office365.com/.default for Microsoft 365, \
                    https://mail.google.com/ for Google)."
                    .to_owned(),
                _ => "The server refused the username or password: check both (the \
                    username is often the full e-mail address). Microsoft 365 and Google \
                    accept only OAuth2 for SMTP: set the notifier's authentication method to \
                    \"xoauth2\"."
                    .to_owned(),
            }
        }
        MailError::XOAuth2Unsupported => "The server does not offer AUTH XOAUTH2: check the \
            host (smtp.office365.com for Microsoft 365, smtp.gmail.com for Google) and the TLS \
            settings (AUTH is often offered only over TLS)."
            .to_owned(),
        MailError::OAuthToken { .. } => "The OAuth2 token endpoint gave no access token: \
            check token_url, client_id, client_secret and scope (and the refresh token, for \
            the refresh_token grant) in the notifier's authentication."
            .to_owned(),
        MailError::ConnectionRefused if port == 25 => "Nothing accepted the connection on \
            port 25, and many networks and cloud providers block outgoing port 25: try port \
            587 with STARTTLS (use_tls)."
            .to_owned(),
        MailError::ConnectionRefused => format!(
            "Nothing accepts connections on {}:{port}: check the host and the port (587 for \
             STARTTLS, 465 for implicit TLS).",
            settings.host
        ),
        MailError::Timeout(_) if failed == Some(StepName::Connect) => format!(
            "{}:{port} did not answer: a firewall may drop the connection. Check the host and \
             port{}.",
            settings.host,
            if port == 25 {
                "; many networks block port 25: try 587"
            } else {
                ""
            }
        ),
        MailError::Network(_) if failed == Some(StepName::Resolve) => format!(
            "The host name {:?} could not be resolved: check the notifier's host.",
            settings.host
        ),
        _ => return None,
    };
    Some(hint)
}

/// A refusal that asks for STARTTLS: a `530` reply (RFC 3207's "Must issue a STARTTLS
/// command first"), or no AUTH from a server that offers STARTTLS (many offer AUTH only
/// over TLS).
fn requires_starttls(err: &MailError, trace: &Trace) -> bool {
    match err {
        MailError::AuthNotOffered | MailError::AuthUnsupported => trace.starttls_offered,
        MailError::AuthenticationRejected(reply) | MailError::Rejected { reply, .. } => {
            err.reply_code() == Some(530) || reply.to_ascii_uppercase().contains("STARTTLS")
        }
        _ => false,
    }
}
