//! What the delivery path counts, for the metrics endpoint.

use prometheus::{IntCounterVec, Opts};

#[derive(Clone)]
pub struct DeliveryCounters {
    /// Every SMTP attempt, by `outcome`: `sent`, `transient` or `permanent`.
    pub attempts: IntCounterVec,
    /// Messages the SMTP server accepted, per notifier.
    pub sent: IntCounterVec,
    /// Attempts that failed in the SMTP exchange, per notifier.
    pub failed: IntCounterVec,
}

impl DeliveryCounters {
    pub fn new() -> Result<Self, prometheus::Error> {
        Ok(Self {
            attempts: IntCounterVec::new(
                Opts::new(
                    "notifier_delivery_attempts_total",
                    "SMTP attempts made for deliveries, by outcome",
                ),
                &["outcome"],
            )?,
            sent: IntCounterVec::new(
                Opts::new(
                    "notifier_mail_sent_total",
                    "Messages the SMTP server accepted",
                ),
                &["notifier_id"],
            )?,
            failed: IntCounterVec::new(
                Opts::new(
                    "notifier_mail_failed_total",
                    "Sends that failed in the SMTP exchange",
                ),
                &["notifier_id"],
            )?,
        })
    }

    /// Every counter, to register with a metrics registry.
    pub fn all(&self) -> [&IntCounterVec; 3] {
        [&self.attempts, &self.sent, &self.failed]
    }
}
