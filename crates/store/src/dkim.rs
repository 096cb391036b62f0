//! Notifiers' DKIM settings (`.../email/{id}/dkim`): a sub-resource, read and written
//! straight through to the database. Nothing here touches the notifier's row, its
//! `updated_at`, the data epoch or the notifier caches: a notifier's body does not show
//! its DKIM settings. Sends read them through the sending cache, which every write here
//! retires.

use notifier_domain::Dkim;
use notifier_persistence::{DatabaseConnection, SecretBox, dkim, notifiers};

use crate::sending::SendingCache;
use crate::{Error, Result};

/// Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct DkimStore {
    db: DatabaseConnection,
    secrets: SecretBox,
    sending: SendingCache,
}

impl DkimStore {
    pub(crate) fn new(db: DatabaseConnection, secrets: SecretBox, sending: SendingCache) -> Self {
        Self {
            db,
            secrets,
            sending,
        }
    }

    /// The notifier's DKIM settings: `Ok(None)` when it has none, [`Error::NotFound`]
    /// when there is no such notifier.
    pub async fn get(&self, notifier_id: i64) -> Result<Option<Dkim>> {
        match dkim::get(&self.db, &self.secrets, notifier_id).await? {
            Some(found) => Ok(Some(found)),
            None => {
                self.exists(notifier_id).await?;
                Ok(None)
            }
        }
    }

    /// Creates or replaces the notifier's settings; [`Error::NotFound`] when the notifier
    /// does not exist (any more).
    pub async fn put(&self, settings: &Dkim) -> Result<()> {
        let written = dkim::put(&self.db, &self.secrets, settings).await;
        // Whatever the outcome: a failed write may still have committed.
        let retired = self.sending.written().await;
        written?;
        retired
    }

    /// Stops signing: whether there were settings to remove; [`Error::NotFound`] when
    /// there is no such notifier.
    pub async fn delete(&self, notifier_id: i64) -> Result<bool> {
        let deleted = dkim::delete(&self.db, notifier_id).await;
        let retired = self.sending.written().await;
        if deleted? {
            retired?;
            return Ok(true);
        }
        self.exists(notifier_id).await?;
        Ok(false)
    }

    async fn exists(&self, notifier_id: i64) -> Result<()> {
        match notifiers::get(&self.db, &self.secrets, notifier_id).await {
            Ok(_) => Ok(()),
            Err(notifier_persistence::Error::NotFound) => Err(Error::NotFound),
            Err(e) => Err(e.into()),
        }
    }
}
