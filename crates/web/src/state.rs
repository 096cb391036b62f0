//! What every handler shares, built once at start-up and cloned into each worker.

use notifier_mailer::Mailer;

use crate::Metrics;
use actix_web::web::Bytes;
use notifier_domain::Principal;

use crate::cache::EpochCache;
use crate::epochs::{EpochReader, LocalWrites};
use notifier_persistence::{DatabaseConnection, SecretBox, Writer};

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// Notifier writes go through here (batched commits on SQLite).
    pub writer: Writer,
    pub secrets: SecretBox,
    /// Return stored passwords instead of the mask (§6), for clients that depend on it.
    pub expose_passwords: bool,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// SMTP delivery, with its per-notifier connection pool.
    pub mailer: Mailer,
    pub metrics: Metrics,
    /// Token lookups and read responses, valid while their epochs are current.
    pub caches: Caches,
}

/// Everything cached per instance, all keyed by the database's epochs.
#[derive(Clone, Default)]
pub struct Caches {
    pub epochs: EpochReader,
    /// Notifier writes made here, so this instance sees its own writes at once.
    pub local_writes: LocalWrites,
    /// Token hash → principal, under the auth epoch.
    pub principals: EpochCache<Principal>,
    /// Serialized GET responses (one notifier, a list page), under the data epoch and the
    /// local write count.
    pub responses: EpochCache<Bytes>,
}
