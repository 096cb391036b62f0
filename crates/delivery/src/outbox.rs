//! Accepting messages: record first, then send now or leave to the workers.

use std::sync::Arc;
use std::time::Duration;

use notifier_domain::{AuditContext, Delivery, DeliveryStatus, Notifier, SendRequest};
use notifier_mailer::{MailError, Mailer, new_message_id};
use notifier_store::{Content, NewDelivery, Recipients, Store};
use tokio::sync::Notify;

use crate::DeliveryCounters;
use crate::attempt::{attempt, outcome, sending_settings};

/// The `[delivery]` settings.
#[derive(Debug, Clone)]
pub struct DeliveryOptions {
    /// Concurrent sends by this instance's workers.
    pub workers: usize,
    /// Automatic attempts per round (a manual retry starts a new round).
    pub max_attempts: u32,
    /// How long a claim holds a delivery; longer than one whole SMTP exchange.
    pub lease: Duration,
    /// Finished deliveries older than this are deleted.
    pub retention: Duration,
    /// Audit records older than this are deleted, by the same sweep.
    pub audit_retention: Duration,
}

/// Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Outbox {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub store: Store,
    pub mailer: Mailer,
    pub options: DeliveryOptions,
    pub counters: DeliveryCounters,
    /// Wakes an idle worker of this instance when a delivery is queued here.
    pub queued: Notify,
}

/// A synchronous send: the delivery as recorded after its first attempt, and that
/// attempt's result (the Message-ID, or why it failed).
#[derive(Debug)]
pub struct SyncSend {
    pub delivery: Delivery,
    pub result: Result<String, MailError>,
}

impl SyncSend {
    /// The attempt failed transiently and the workers will try again.
    pub fn queued_for_retry(&self) -> bool {
        self.delivery.status == DeliveryStatus::Deferred
    }
}

impl Outbox {
    pub fn new(
        store: Store,
        mailer: Mailer,
        options: DeliveryOptions,
        counters: DeliveryCounters,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                mailer,
                options,
                counters,
                queued: Notify::new(),
            }),
        }
    }

    /// Records the message as claimed by this request, makes the first attempt, and
    /// records its outcome; a transient failure leaves it deferred for the workers.
    pub async fn send_now(
        &self,
        notifier: &Notifier,
        request: SendRequest,
        audit: &AuditContext,
    ) -> notifier_store::Result<SyncSend> {
        let Inner {
            store,
            mailer,
            options,
            counters,
            ..
        } = &*self.inner;
        // Read before anything is recorded: a database that cannot answer this records
        // nothing either.
        let settings = sending_settings(store, notifier).await?;
        let (new, content) = new_delivery(notifier, request, &audit.actor);
        let created = store
            .deliveries
            .create(new, Some(options.lease), audit)
            .await?;
        let result = attempt(mailer, counters, notifier, &settings, &created, content).await;
        let recorded = store
            .deliveries
            .record(
                &created,
                outcome(&result, 1, options.max_attempts, store.deliveries.now()),
            )
            .await;
        let delivery = match recorded {
            Ok(Some(delivery)) => delivery,
            // The lease outlasts any exchange (checked at start-up), so this is not
            // expected; the delivery's record is what the worker holding it writes.
            Ok(None) => created,
            Err(e) => {
                log::error!(
                    "delivery={} attempt made but its outcome was not recorded; it will be attempted again when its lease ends: {e}",
                    created.id
                );
                return Err(e);
            }
        };
        if delivery.status == DeliveryStatus::Deferred {
            self.inner.queued.notify_one();
        }
        Ok(SyncSend { delivery, result })
    }

    /// Records the message as queued for the workers (`Prefer: respond-async`).
    pub async fn enqueue(
        &self,
        notifier: &Notifier,
        request: SendRequest,
        audit: &AuditContext,
    ) -> notifier_store::Result<Delivery> {
        let (new, _) = new_delivery(notifier, request, &audit.actor);
        let delivery = self.inner.store.deliveries.create(new, None, audit).await?;
        self.inner.queued.notify_one();
        Ok(delivery)
    }

    /// Queues a failed or deferred delivery again now, for an idle worker to take.
    pub async fn retry(&self, id: i64, audit: &AuditContext) -> notifier_store::Result<Delivery> {
        let delivery = self.inner.store.deliveries.retry(id, audit).await?;
        self.inner.queued.notify_one();
        Ok(delivery)
    }
}

/// The row to record and the message text the first attempt needs.
fn new_delivery(
    notifier: &Notifier,
    request: SendRequest,
    requested_by: &str,
) -> (NewDelivery, Content) {
    let content = Content {
        body: request.body,
        html_body: request.html_body,
        reply_to: request.reply_to,
    };
    let new = NewDelivery {
        notifier_id: notifier.id,
        notifier_name: notifier.name.clone(),
        recipients: Recipients {
            to: request.to,
            cc: request.cc,
            bcc: request.bcc,
        },
        subject: request.subject,
        message_id: new_message_id(),
        content: content.clone(),
        requested_by: requested_by.to_owned(),
    };
    (new, content)
}
