//! The public entry point: one [`Mailer`] per process, cloned into every worker.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use lettre::transport::smtp::client::AsyncSmtpConnection;
use prometheus::IntCounterVec;
use tokio::sync::mpsc;

use lettre::transport::smtp::extension::ClientId;

use crate::deadline::Deadline;
use crate::diagnosis;
use crate::error::{MailError, Result};
use crate::message::{self, OutgoingMessage};
use crate::oauth::{RotatedRefreshToken, Tokens};
use crate::policy::Policy;
use crate::pool::Pool;
use crate::session::Dialer;
use crate::settings::{MailerConfig, SmtpAuth, SmtpSettings, XOAuth2};
use crate::tls::Trust;
use crate::trace::{StepName, StepReport, Trace};

/// Sends mail with stored notifiers' settings; cheap to clone, safe to share.
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
}

struct Inner {
    dialer: Dialer,
    pool: Pool,
    /// XOAUTH2 access tokens, per notifier.
    tokens: Tokens,
    /// Refresh tokens the endpoints replaced, until the caller takes the receiver.
    rotations: Mutex<Option<mpsc::UnboundedReceiver<RotatedRefreshToken>>>,
    timeout: Duration,
    total_timeout: Duration,
}

/// What a successful settings check did, for the `/test` response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutcome {
    pub detail: String,
}

/// A settings check step by step, for `/test` (docs/API.md §10): the outcome, the steps
/// that ran, and on failure a suggested fix when the failure is a known mistake.
#[derive(Debug)]
pub struct CheckReport {
    pub outcome: Result<CheckOutcome>,
    pub steps: Vec<StepReport>,
    pub hint: Option<String>,
}

impl Mailer {
    /// Built once at start-up; fails when `extra_ca_pem` holds no usable certificate.
    pub fn new(config: MailerConfig) -> Result<Self> {
        let trust = Trust::new(config.extra_ca_pem.as_deref())?;
        let policy = Policy::new(
            &config.denied_networks,
            &config.allowed_networks,
            &config.allowed_ports,
        );
        let (tokens, rotations) = Tokens::new(&trust, policy.clone(), config.timeout)?;
        Ok(Self {
            inner: Arc::new(Inner {
                dialer: Dialer {
                    // Read once: lettre asks the OS for the host name on every default().
                    hello: ClientId::default(),
                    trust,
                    policy,
                    allow_plaintext_auth: config.allow_plaintext_auth,
                },
                pool: Pool::new(config.max_connections_per_notifier),
                tokens,
                rotations: Mutex::new(Some(rotations)),
                timeout: config.timeout,
                total_timeout: config.total_timeout,
            }),
        })
    }

    /// Connects, secures per the TLS mode, authenticates and quits; with `to`, also sends a
    /// short test message. Always on a new connection: it tests the settings themselves.
    pub async fn check(&self, settings: &SmtpSettings, to: Option<&str>) -> Result<CheckOutcome> {
        self.check_settings(None, settings, to, &mut Trace::off())
            .await
    }

    /// [`Mailer::check`] for a stored notifier: an XOAUTH2 access token comes from (and
    /// goes to) its cache, and a rotated refresh token is reported for it.
    pub async fn check_notifier(
        &self,
        notifier_id: i64,
        settings: &SmtpSettings,
        to: Option<&str>,
    ) -> Result<CheckOutcome> {
        self.check_settings(Some(notifier_id), settings, to, &mut Trace::off())
            .await
    }

    /// [`Mailer::check_notifier`], reporting each step and, on failure, a hint.
    pub async fn diagnose_notifier(
        &self,
        notifier_id: i64,
        settings: &SmtpSettings,
        to: Option<&str>,
    ) -> CheckReport {
        let mut trace = Trace::on();
        let outcome = self
            .check_settings(Some(notifier_id), settings, to, &mut trace)
            .await;
        let hint = match &outcome {
            Ok(_) => None,
            Err(e) => diagnosis::hint(e, settings, &trace),
        };
        CheckReport {
            outcome,
            steps: trace.into_steps(),
            hint,
        }
    }

    async fn check_settings(
        &self,
        notifier_id: Option<i64>,
        settings: &SmtpSettings,
        to: Option<&str>,
        trace: &mut Trace,
    ) -> Result<CheckOutcome> {
        let dialer = &self.inner.dialer;
        let deadline = self.deadline();
        // Built before connecting so that a bad address costs no connection.
        let test = to
            .map(|to| {
                message::prepare(
                    &settings.from_email,
                    &message::test_message(to),
                    settings.dkim.as_ref(),
                )
            })
            .transpose()?;
        let mut conn = self.open(notifier_id, settings, &deadline, trace).await?;
        let detail = match test {
            None => "connected and authenticated",
            Some(test) => {
                if let Err(e) = dialer
                    .transact(&mut conn, &test.envelope, &test.bytes, &deadline, trace)
                    .await
                {
                    dialer.close(conn, &e, &deadline).await;
                    return Err(e);
                }
                "connected, authenticated and sent a test message"
            }
        };
        dialer.quit(conn, &deadline).await;
        Ok(CheckOutcome {
            detail: detail.to_owned(),
        })
    }

    /// Sends one message and returns the Message-ID it was given (`<…@notifier.local>`).
    /// Reuses an idle connection of this notifier when its settings have not changed, and
    /// waits for one when the notifier already has as many open as it may.
    pub async fn send(
        &self,
        notifier_id: i64,
        settings: &SmtpSettings,
        message: &OutgoingMessage,
    ) -> Result<String> {
        let Inner { dialer, pool, .. } = &*self.inner;
        let deadline = self.deadline();
        let prepared = message::prepare(&settings.from_email, message, settings.dkim.as_ref())?;
        let fingerprint = pool.fingerprint(settings);
        let permits = pool.permits(notifier_id);
        // Held until this send is done with its connection (parked or closed).
        let Ok(_permit) = deadline.within_total(permits.acquire_owned()).await? else {
            return Err(MailError::Protocol("the connection pool was closed".into()));
        };

        let parked = match pool.take(notifier_id, fingerprint) {
            Some(mut parked) => dialer.alive(&mut parked, &deadline).await.then_some(parked),
            None => None,
        };
        let mut conn = match parked {
            Some(conn) => conn,
            None => {
                self.open(Some(notifier_id), settings, &deadline, &mut Trace::off())
                    .await?
            }
        };
        match dialer
            .transact(
                &mut conn,
                &prepared.envelope,
                &prepared.bytes,
                &deadline,
                &mut Trace::off(),
            )
            .await
        {
            Ok(()) => {
                pool.put(notifier_id, fingerprint, conn);
                Ok(prepared.message_id)
            }
            Err(e) => {
                dialer.close(conn, &e, &deadline).await;
                Err(e)
            }
        }
    }

    /// A new connection, logged in. With XOAUTH2, the access token comes first, from the
    /// token endpoint (or the cache), as `/test` reports it (docs/API.md §10); a `535` to it
    /// drops the token and tries once more with a new one (the cached token may have been
    /// revoked before it expired).
    async fn open(
        &self,
        notifier_id: Option<i64>,
        settings: &SmtpSettings,
        deadline: &Deadline,
        trace: &mut Trace,
    ) -> Result<AsyncSmtpConnection> {
        let Inner { dialer, tokens, .. } = &*self.inner;
        let SmtpAuth::XOAuth2(oauth) = &settings.auth else {
            return dialer.open(settings, None, deadline, trace).await;
        };
        let token = self.token(notifier_id, oauth, deadline, trace).await?;
        let addresses = dialer.destinations(settings, deadline, trace).await?;
        match dialer
            .connect(&addresses, settings, Some(&token), deadline, trace)
            .await
        {
            Err(e) if e.reply_code() == Some(535) => {
                if let Some(id) = notifier_id {
                    tokens.forget(id);
                }
                let token = self.token(notifier_id, oauth, deadline, trace).await?;
                dialer
                    .connect(&addresses, settings, Some(&token), deadline, trace)
                    .await
            }
            opened => opened,
        }
    }

    /// The `oauth2_token` step: an access token, from the cache or the endpoint.
    async fn token(
        &self,
        notifier_id: Option<i64>,
        oauth: &XOAuth2,
        deadline: &Deadline,
        trace: &mut Trace,
    ) -> Result<String> {
        let fetched = self.inner.tokens.token(notifier_id, oauth, deadline);
        trace
            .step(StepName::OAuth2Token, fetched, |_| {
                "access token obtained".to_owned()
            })
            .await
    }

    /// Refresh tokens that token endpoints replaced, for the caller to store; the receiver
    /// is handed out once (later calls get `None`).
    pub fn rotated_refresh_tokens(&self) -> Option<mpsc::UnboundedReceiver<RotatedRefreshToken>> {
        self.inner
            .rotations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// `notifier_oauth_token_fetch_total{outcome}`, for the caller's metrics registry.
    pub fn oauth_token_fetches(&self) -> IntCounterVec {
        self.inner.tokens.counter()
    }

    /// The limits of one check or send, counted from now.
    fn deadline(&self) -> Deadline {
        Deadline::start(self.inner.timeout, self.inner.total_timeout)
    }

    /// Drops this notifier's idle connections; call after it is updated or deleted.
    pub fn forget(&self, notifier_id: i64) {
        self.inner.pool.forget(notifier_id);
        self.inner.tokens.forget(notifier_id);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::settings::TlsMode;

    // The web layer shares one Mailer between workers and may spawn its futures.
    #[test]
    fn mailer_and_its_futures_can_cross_threads() {
        fn shareable<T: Clone + Send + Sync + 'static>() {}
        fn sendable<T: Send>(_: &T) {}
        shareable::<Mailer>();
        let mailer = Mailer::new(MailerConfig::default()).unwrap();
        let settings = SmtpSettings {
            host: "localhost".into(),
            port: 25,
            username: String::new(),
            password: String::new(),
            auth: crate::SmtpAuth::Password,
            from_email: "a@example.com".into(),
            tls: TlsMode::None,
            dkim: None,
        };
        let message = OutgoingMessage::default();
        sendable(&mailer.send(1, &settings, &message));
        sendable(&mailer.check(&settings, None));
    }
}
