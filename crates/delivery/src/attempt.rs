//! One SMTP attempt for a delivery, and what to record of it.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use notifier_domain::{Authentication, Delivery, Dkim, Grant, Notifier, backoff};
use notifier_mailer::{
    DkimSettings, MailError, Mailer, OutgoingMessage, SmtpAuth, SmtpSettings, TlsMode, XOAuth2,
};
use notifier_store::{Content, Outcome, Store};

use crate::DeliveryCounters;

/// The SMTP settings a stored notifier describes: logging in as its `/authentication`
/// says, signing with its DKIM settings when it has them.
pub fn smtp_settings(
    notifier: &Notifier,
    auth: &Authentication,
    dkim: Option<&Dkim>,
) -> SmtpSettings {
    SmtpSettings {
        host: notifier.host.clone(),
        port: notifier.port,
        username: notifier.username.clone(),
        password: notifier.password.expose().to_owned(),
        auth: match auth {
            Authentication::Password => SmtpAuth::Password,
            Authentication::None => SmtpAuth::None,
            Authentication::XOAuth2(x) => SmtpAuth::XOAuth2(XOAuth2 {
                token_url: x.token_url.clone(),
                client_id: x.client_id.clone(),
                client_secret: x.client_secret.expose().to_owned(),
                scope: x.scope.clone(),
                refresh_token: match x.grant {
                    Grant::RefreshToken => x.refresh_token.as_ref().map(|t| t.expose().to_owned()),
                    Grant::ClientCredentials => None,
                },
            }),
        },
        from_email: notifier.from_email.clone(),
        tls: TlsMode::from_flags(notifier.use_tls, notifier.use_ssl),
        dkim: dkim.map(|d| DkimSettings {
            domain: d.domain.clone(),
            selector: d.selector.clone(),
            private_key: d.private_key.expose().to_owned(),
        }),
    }
}

/// Everything a send through `notifier` needs, with its current authentication and DKIM
/// settings.
pub async fn sending_settings(
    store: &Store,
    notifier: &Notifier,
) -> notifier_store::Result<SmtpSettings> {
    let sending = store.sending_settings(notifier.id).await?;
    Ok(smtp_settings(
        notifier,
        &sending.authentication,
        sending.dkim.as_ref(),
    ))
}

/// Sends the delivery's message through `notifier` once, with the delivery's Message-ID;
/// counts and logs the attempt (never its text).
pub(crate) async fn attempt(
    mailer: &Mailer,
    counters: &DeliveryCounters,
    notifier: &Notifier,
    settings: &SmtpSettings,
    delivery: &Delivery,
    content: Content,
) -> Result<String, MailError> {
    let message = OutgoingMessage {
        to: delivery.to.clone(),
        cc: delivery.cc.clone(),
        bcc: delivery.bcc.clone(),
        reply_to: content.reply_to,
        subject: delivery.subject.clone(),
        body: content.body,
        html_body: content.html_body,
        message_id: Some(delivery.message_id.clone()),
    };
    let started = Instant::now();
    let result = mailer.send(notifier.id, settings, &message).await;
    let duration_ms = started.elapsed().as_millis();
    let (id, notifier_id, attempt) = (delivery.id, notifier.id, delivery.attempts);
    let recipients = delivery.to.len() + delivery.cc.len() + delivery.bcc.len();
    let label = [notifier_id.to_string()];
    match &result {
        Ok(_) => {
            counters.attempts.with_label_values(&["sent"]).inc();
            counters.sent.with_label_values(&label).inc();
            log::info!(
                "smtp send delivery={id} notifier={notifier_id} attempt={attempt} recipients={recipients} outcome=sent duration_ms={duration_ms}"
            );
        }
        Err(e) => {
            let kind = if e.is_transient() {
                "transient"
            } else {
                "permanent"
            };
            counters.attempts.with_label_values(&[kind]).inc();
            counters.failed.with_label_values(&label).inc();
            log::warn!(
                "smtp send delivery={id} notifier={notifier_id} attempt={attempt} recipients={recipients} outcome={kind} duration_ms={duration_ms} error={e}"
            );
        }
    }
    result
}

/// What to record: sent; deferred with back-off after a transient failure while the
/// round has attempts left; else failed.
pub(crate) fn outcome(
    result: &Result<String, MailError>,
    round_attempts: u32,
    max_attempts: u32,
    now: DateTime<Utc>,
) -> Outcome {
    match result {
        Ok(_) => Outcome::Sent,
        Err(e) => {
            let retry_at = (e.is_transient() && round_attempts < max_attempts)
                .then(|| now + to_chrono(jittered(backoff(round_attempts))));
            Outcome::Failed {
                error: e.to_string(),
                reply_code: e.reply_code(),
                retry_at,
            }
        }
    }
}

/// A failure that is not the SMTP exchange's: nothing to try again.
pub(crate) fn unsendable(why: &str) -> Outcome {
    Outcome::Failed {
        error: why.to_owned(),
        reply_code: None,
        retry_at: None,
    }
}

/// ±10 %, so deliveries deferred together (a relay down for everyone) do not all come
/// back in the same instant.
fn jittered(wait: Duration) -> Duration {
    wait.mul_f64(rand::random_range(0.9..1.1))
}

fn to_chrono(wait: Duration) -> chrono::Duration {
    chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn failed(outcome: Outcome) -> (String, Option<u16>, Option<DateTime<Utc>>) {
        match outcome {
            Outcome::Failed {
                error,
                reply_code,
                retry_at,
            } => (error, reply_code, retry_at),
            Outcome::Sent => panic!("expected a failure"),
        }
    }

    #[test]
    fn a_transient_failure_is_deferred_by_the_back_off_with_jitter() {
        let now = Utc::now();
        let err = Err(MailError::Rejected {
            step: "the message",
            reply: "451 4.7.1 greylisted".into(),
        });
        let (error, code, retry_at) = failed(outcome(&err, 1, 8, now));
        assert_eq!(error, "server rejected the message: 451 4.7.1 greylisted");
        assert_eq!(code, Some(451));
        let wait = (retry_at.unwrap() - now).num_milliseconds();
        assert!((27_000..=33_000).contains(&wait), "{wait}");

        let (_, _, retry_at) = failed(outcome(&err, 3, 8, now));
        let wait = (retry_at.unwrap() - now).num_milliseconds();
        assert!((108_000..=132_000).contains(&wait), "{wait}");
    }

    #[test]
    fn the_last_attempt_of_a_round_and_permanent_failures_fail() {
        let now = Utc::now();
        let transient = Err(MailError::ConnectionRefused);
        assert_eq!(failed(outcome(&transient, 8, 8, now)).2, None);
        let permanent = Err(MailError::Rejected {
            step: "the message",
            reply: "550 5.7.1 no".into(),
        });
        let (_, code, retry_at) = failed(outcome(&permanent, 1, 8, now));
        assert_eq!((code, retry_at), (Some(550), None));
        assert!(matches!(
            outcome(&Ok("<id>".into()), 1, 8, now),
            Outcome::Sent
        ));
    }
}
