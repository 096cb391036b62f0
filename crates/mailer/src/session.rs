//! One SMTP conversation: connect, secure, authenticate, then mail transactions.
//!
//! Driven step by step on lettre's `AsyncSmtpConnection` rather than through
//! `AsyncSmtpTransport`: lettre's async client applies its timeout to the TCP connect only,
//! so every step here gets its own limit, and a failure names the step it happened in.

use std::future::Future;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};

use crate::error::{MailError, Result, Step, reply_text};
use crate::settings::{SmtpSettings, TlsMode};
use crate::tls;

const MECHANISMS: [Mechanism; 2] = [Mechanism::Plain, Mechanism::Login];

/// What every conversation shares: the limit per step, the EHLO name, the trusted roots.
pub(crate) struct Dialer {
    pub timeout: Duration,
    pub hello: ClientId,
    pub extra_roots: Vec<Certificate>,
}

impl Dialer {
    /// Connects, secures the channel per `settings.tls` and authenticates.
    pub(crate) async fn open(&self, settings: &SmtpSettings) -> Result<AsyncSmtpConnection> {
        let implicit = match settings.tls {
            TlsMode::Implicit => Some(tls::parameters(&settings.host, &self.extra_roots)?),
            TlsMode::None | TlsMode::StartTls => None,
        };
        let address = (settings.host.as_str(), settings.port);
        let connect = AsyncSmtpConnection::connect_tokio1(
            address,
            Some(self.timeout),
            &self.hello,
            implicit,
            None,
        );
        let mut conn = self.step(Step::Connect, connect).await?;

        if settings.tls == TlsMode::StartTls {
            // Never fall back to plain text: the notifier asked for TLS.
            if !conn.server_info().supports_feature(Extension::StartTls) {
                let err = MailError::StartTlsUnavailable;
                self.close(conn, &err).await;
                return Err(err);
            }
            let parameters = tls::parameters(&settings.host, &self.extra_roots)?;
            // On failure the connection is dropped without QUIT: once lettre has begun the
            // handshake it has taken the socket, and any later write on it panics.
            self.step(Step::StartTls, conn.starttls(parameters, &self.hello))
                .await?;
        }

        // As Django's backend: no AUTH unless both a username and a password are stored.
        if !settings.username.is_empty() && !settings.password.is_empty() {
            if conn.server_info().get_auth_mechanism(&MECHANISMS).is_none() {
                let err = MailError::AuthUnsupported;
                self.close(conn, &err).await;
                return Err(err);
            }
            let credentials =
                Credentials::new(settings.username.clone(), settings.password.clone());
            let authenticated = self
                .step(Step::Auth, conn.auth(&MECHANISMS, &credentials))
                .await;
            if let Err(e) = authenticated {
                self.close(conn, &e).await;
                return Err(e);
            }
        }
        Ok(conn)
    }

    /// One mail transaction. As Python's smtplib (and so the original product), refused
    /// recipients are skipped and the message still goes to the others; it fails only when
    /// every recipient is refused. The caller closes the connection after an error.
    pub(crate) async fn transact(
        &self,
        conn: &mut AsyncSmtpConnection,
        envelope: &Envelope,
        bytes: &[u8],
    ) -> Result<()> {
        let mut parameters = Vec::new();
        let non_ascii_address = envelope
            .from()
            .into_iter()
            .chain(envelope.to())
            .any(|a| !a.to_string().is_ascii());
        if non_ascii_address {
            if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
                return Err(MailError::InvalidAddress(
                    "non-ASCII addresses need a server that offers SMTPUTF8".into(),
                ));
            }
            parameters.push(MailParameter::SmtpUtfEight);
        }
        // Bodies are transfer-encoded to ASCII, so this only guards future changes.
        if !bytes.is_ascii() {
            parameters.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let mail = conn.command(Mail::new(envelope.from().cloned(), parameters));
        self.step(Step::MailFrom, mail).await?;

        let mut refused = Vec::new();
        for recipient in envelope.to() {
            let rcpt = conn.command(Rcpt::new(recipient.clone(), Vec::new()));
            match tokio::time::timeout(self.timeout, rcpt).await {
                Err(_) => return Err(MailError::Timeout(self.timeout)),
                Ok(Ok(_)) => {}
                Ok(Err(e)) if e.status().is_some() => {
                    refused.push(format!("{recipient}: {}", reply_text(&e)));
                }
                Ok(Err(e)) => return Err(MailError::from_smtp(&e, Step::Data, self.timeout)),
            }
        }
        if refused.len() == envelope.to().len() {
            return Err(MailError::RecipientRejected(refused.join("; ")));
        }

        self.step(Step::Data, conn.command(Data)).await?;
        self.step(Step::Data, conn.message(bytes)).await?;
        Ok(())
    }

    /// Ends a conversation that failed with `err`. QUIT only when the server is still
    /// talking (it refused something); after a timeout or a broken link a QUIT would only
    /// wait out another full timeout, so the socket is just dropped.
    pub(crate) async fn close(&self, mut conn: AsyncSmtpConnection, err: &MailError) {
        let server_still_talking = matches!(
            err,
            MailError::StartTlsUnavailable
                | MailError::AuthUnsupported
                | MailError::AuthenticationRejected(_)
                | MailError::RecipientRejected(_)
                | MailError::Rejected { .. }
                | MailError::InvalidAddress(_)
        );
        if server_still_talking {
            let _ = tokio::time::timeout(self.timeout, conn.abort()).await;
        }
    }

    /// A polite QUIT that still reports nothing: the check already succeeded.
    pub(crate) async fn quit(&self, mut conn: AsyncSmtpConnection) {
        let _ = tokio::time::timeout(self.timeout, conn.quit()).await;
    }

    /// Is a parked connection still usable? A NOOP, within the limit.
    pub(crate) async fn alive(&self, conn: &mut AsyncSmtpConnection) -> bool {
        !conn.has_broken()
            && tokio::time::timeout(self.timeout, conn.test_connected())
                .await
                .unwrap_or(false)
    }

    async fn step<T>(
        &self,
        step: Step,
        work: impl Future<Output = Result<T, lettre::transport::smtp::Error>>,
    ) -> Result<T> {
        match tokio::time::timeout(self.timeout, work).await {
            Err(_) => Err(MailError::Timeout(self.timeout)),
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(MailError::from_smtp(&e, step, self.timeout)),
        }
    }
}
