//! What a send through a notifier needs beyond the notifier: its authentication method
//! and DKIM settings, cached per instance.
//!
//! Every send and `/test` needs both; read from the database they were two queries per
//! message. They are kept under the sending marker (`sending_epoch`), which every write
//! of either moves on after it commits, so another instance's change is seen within the
//! epochs' bound ([`crate::MAX_STALENESS`]). A change made through this instance is seen
//! at once: each one also counts in `local_writes`, and an entry read before that count
//! moved is not used.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use notifier_domain::{Authentication, Dkim};
use notifier_persistence::{DatabaseConnection, SecretBox, authentication, dkim, epochs};

use crate::Result;
use crate::epochs::EpochReader;

/// More notifiers than this send through one instance: the cache starts over.
const MAX_ENTRIES: usize = 10_000;

/// How a notifier logs in and signs.
#[derive(Debug, Clone)]
pub struct SendingSettings {
    pub authentication: Authentication,
    pub dkim: Option<Dkim>,
}

struct Entry {
    sending_epoch: String,
    local_writes: u64,
    settings: Arc<SendingSettings>,
}

/// Cheap to clone; clones share everything.
#[derive(Clone)]
pub(crate) struct SendingCache {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    secrets: SecretBox,
    epochs: EpochReader,
    entries: Mutex<HashMap<i64, Entry>>,
    local_writes: AtomicU64,
}

impl SendingCache {
    pub(crate) fn new(db: DatabaseConnection, secrets: SecretBox, epochs: EpochReader) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                secrets,
                epochs,
                entries: Mutex::new(HashMap::new()),
                local_writes: AtomicU64::new(0),
            }),
        }
    }

    /// The settings a send through `notifier_id` (just read) uses.
    pub(crate) async fn get(&self, notifier_id: i64) -> Result<Arc<SendingSettings>> {
        let inner = &*self.inner;
        // Both markers are taken before the database is read: a write committed after
        // them moves at least one, and the entry made here is not used again.
        let local_writes = inner.local_writes.load(Ordering::Acquire);
        let sending_epoch = inner.epochs.current().await?.sending.clone();
        if let Some(entry) = self.entries().get(&notifier_id)
            && entry.sending_epoch == sending_epoch
            && entry.local_writes == local_writes
        {
            return Ok(Arc::clone(&entry.settings));
        }
        let authentication =
            authentication::for_sending(&inner.db, &inner.secrets, notifier_id).await?;
        let dkim = dkim::get(&inner.db, &inner.secrets, notifier_id).await?;
        let settings = Arc::new(SendingSettings {
            authentication,
            dkim,
        });
        let mut entries = self.entries();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            notifier_id,
            Entry {
                sending_epoch,
                local_writes,
                settings: Arc::clone(&settings),
            },
        );
        Ok(settings)
    }

    /// After a write of a notifier's authentication or DKIM settings (committed or not):
    /// this instance stops using what it holds at once, the others within the bound.
    pub(crate) async fn written(&self) -> Result<()> {
        // Counted after the write: a read that saw the new count read the new settings.
        self.inner.local_writes.fetch_add(1, Ordering::AcqRel);
        Ok(epochs::advance_sending(&self.inner.db).await?)
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Entry>> {
        self.inner
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
