//! The delivery resource (docs/API.md §9): the outbox's rows for the HTTP layer and for
//! the delivery workers. Nothing is cached: a delivery changes with every attempt, and
//! every instance's workers change it.

use std::time::Duration;

use notifier_domain::{AuditContext, Delivery, DeliveryQuery};
use notifier_persistence::deliveries::{
    self, Claimed, NewDelivery, Outcome, Refused, Start, Stats,
};
use notifier_persistence::{DatabaseConnection, SecretBox, Writer};

use crate::{Clock, Error, Result};

/// Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct DeliveryStore {
    db: DatabaseConnection,
    writer: Writer,
    secrets: SecretBox,
    clock: Clock,
}

impl DeliveryStore {
    pub(crate) fn new(
        db: DatabaseConnection,
        writer: Writer,
        secrets: SecretBox,
        clock: Clock,
    ) -> Self {
        Self {
            db,
            writer,
            secrets,
            clock,
        }
    }

    /// Records a message before any SMTP traffic: queued for the workers, or leased for
    /// `lease` to the caller, which makes the first attempt itself.
    /// Its `send` audit record commits with it.
    pub async fn create(
        &self,
        new: NewDelivery,
        claim_for: Option<Duration>,
        audit: &AuditContext,
    ) -> Result<Delivery> {
        let now = self.clock.utc_now();
        let start = match claim_for {
            None => Start::Queued,
            Some(lease) => Start::Sending {
                lease_until: deliveries::lease_until(now, lease),
            },
        };
        Ok(deliveries::create(&self.writer, &self.secrets, new, start, now, audit).await?)
    }

    /// Leases the delivery due first for one attempt, if any is due.
    pub async fn claim(&self, lease: Duration) -> Result<Option<Claimed>> {
        let now = self.clock.utc_now();
        let until = deliveries::lease_until(now, lease);
        Ok(deliveries::claim(&self.writer, &self.secrets, now, until).await?)
    }

    /// Records what the attempt of a claim came to; `None` when the claim had lapsed and
    /// another worker holds the delivery now (its record stands).
    pub async fn record(&self, claimed: &Delivery, outcome: Outcome) -> Result<Option<Delivery>> {
        let now = self.clock.utc_now();
        Ok(deliveries::record(&self.writer, claimed, outcome, now).await?)
    }

    /// Gives back a claim no attempt was made for; false when it had lapsed.
    pub async fn release(&self, claimed: &Delivery) -> Result<bool> {
        let now = self.clock.utc_now();
        Ok(deliveries::release(&self.writer, claimed, now).await?)
    }

    pub async fn get(&self, id: i64) -> Result<Delivery> {
        deliveries::get(&self.db, id).await.map_err(not_found)
    }

    /// One page: its number, the count of all matching, and its deliveries; a page past
    /// the last is an error, as DRF's.
    pub async fn page(&self, query: &DeliveryQuery) -> Result<(u64, u64, Vec<Delivery>)> {
        deliveries::page(&self.db, query)
            .await?
            .ok_or(Error::PageOutOfRange)
    }

    /// A failed or deferred delivery, queued again now with a fresh round of attempts.
    pub async fn retry(&self, id: i64, audit: &AuditContext) -> Result<Delivery> {
        let now = self.clock.utc_now();
        match deliveries::retry(&self.writer, id, now, audit).await? {
            Ok(delivery) => Ok(delivery),
            Err(Refused::NotFound) => Err(Error::DeliveryNotFound),
            Err(Refused::WrongState) => Err(Error::NotRetryable),
        }
    }

    /// A queued or deferred delivery, cancelled.
    pub async fn cancel(&self, id: i64, audit: &AuditContext) -> Result<Delivery> {
        let now = self.clock.utc_now();
        match deliveries::cancel(&self.writer, id, now, audit).await? {
            Ok(delivery) => Ok(delivery),
            Err(Refused::NotFound) => Err(Error::DeliveryNotFound),
            Err(Refused::WrongState) => Err(Error::NotCancellable),
        }
    }

    /// Deletes finished deliveries older than `retention`, at most `limit` at a time.
    pub async fn purge(&self, retention: Duration, limit: u64) -> Result<u64> {
        let before = self.clock.utc_now()
            - chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::MAX);
        Ok(deliveries::purge_finished(&self.writer, before, limit).await?)
    }

    /// Counts per status and the oldest due time, for the metrics endpoint.
    pub async fn stats(&self) -> Result<Stats> {
        Ok(deliveries::stats(&self.db, self.clock.utc_now()).await?)
    }

    /// The time deliveries are scheduled by.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.utc_now()
    }
}

fn not_found(err: notifier_persistence::Error) -> Error {
    match err {
        notifier_persistence::Error::NotFound => Error::DeliveryNotFound,
        other => other.into(),
    }
}
