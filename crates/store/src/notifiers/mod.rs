//! The notifier resource: every read and write of a notifier goes through [`NotifierStore`].
//!
//! Reads are answered from this instance's caches when they are current (see the crate
//! docs), else from the database, filling the caches. Writes go to the database and then,
//! in this one place, update what the caches hold and tell the change hooks.

mod reads;
mod writes;

use std::sync::Arc;

use bytes::Bytes;
use notifier_domain::{ListQuery, Notifier};
use notifier_persistence::{DatabaseConnection, SecretBox, Writer};

use crate::cache::{ENTRY_OVERHEAD, EpochCache};
use crate::epochs::{DataVersion, EpochReader, LocalWrites};
use crate::items::ItemCache;
use crate::load_locks::LoadLocks;
use crate::{ChangeHooks, Render};

/// Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct NotifierStore {
    db: DatabaseConnection,
    /// Notifier writes go through here (batched commits on SQLite).
    writer: Writer,
    secrets: SecretBox,
    render: Arc<dyn Render>,
    epochs: EpochReader,
    /// Notifier writes made here, so this instance sees its own writes at once.
    local_writes: LocalWrites,
    /// Each notifier's serialized body, until that notifier changes.
    items: ItemCache,
    /// Serialized list pages (by the key the caller gives: the full URL, since the body's
    /// links carry it), under the data epoch and the local write count.
    pages: EpochCache<String, DataVersion, Bytes>,
    /// A list query's ordered ids (page fields blanked), under the same version.
    selections: EpochCache<ListQuery, DataVersion, Arc<Vec<i64>>>,
    /// Misses that would load the same thing wait for one load.
    loads: LoadLocks,
    hooks: ChangeHooks,
}

/// A notifier just created.
pub struct Created {
    pub id: i64,
    /// Its response body.
    pub body: Bytes,
}

/// What [`NotifierStore`] is built from; the rest it makes itself.
pub(crate) struct Parts {
    pub db: DatabaseConnection,
    pub writer: Writer,
    pub secrets: SecretBox,
    pub render: Arc<dyn Render>,
    pub epochs: EpochReader,
    pub items: ItemCache,
    pub hooks: ChangeHooks,
    /// What list pages may hold, in bytes.
    pub pages_budget: u64,
    /// What list id sets may hold, in bytes.
    pub selections_budget: u64,
}

impl NotifierStore {
    pub(crate) fn new(parts: Parts) -> Self {
        Self {
            db: parts.db,
            writer: parts.writer,
            secrets: parts.secrets,
            render: parts.render,
            epochs: parts.epochs,
            local_writes: LocalWrites::default(),
            items: parts.items,
            pages: EpochCache::new(1024, parts.pages_budget, |body: &Bytes| {
                body.len() as u64 + ENTRY_OVERHEAD
            }),
            selections: EpochCache::new(64, parts.selections_budget, |ids: &Arc<Vec<i64>>| {
                8 * ids.len() as u64 + ENTRY_OVERHEAD
            }),
            loads: LoadLocks::default(),
            hooks: parts.hooks,
        }
    }

    /// A notifier as stored, password included, read afresh: for sending through it.
    pub async fn notifier(&self, id: i64) -> crate::Result<Notifier> {
        Ok(notifier_persistence::notifiers::get(&self.db, &self.secrets, id).await?)
    }

    /// How many notifiers exist, for the metrics endpoint.
    pub async fn count(&self) -> crate::Result<u64> {
        Ok(notifier_persistence::notifiers::count(&self.db).await?)
    }

    fn body(&self, notifier: &Notifier) -> crate::Result<Bytes> {
        Ok(self.render.body(notifier)?)
    }
}
