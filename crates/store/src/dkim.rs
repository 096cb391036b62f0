//! Notifiers' DKIM settings (`.../email/{id}/dkim`): a sub-resource, read and written
//! straight through to the database. Nothing here touches the notifier's row, its
//! `updated_at`, the data epoch or the notifier caches: a notifier's body does not show
//! its DKIM settings, and every send reads them afresh.

use notifier_domain::Dkim;
use notifier_persistence::{DatabaseConnection, SecretBox, dkim, notifiers};

use crate::{Error, Result};

/// Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct DkimStore {
    db: DatabaseConnection,
    secrets: SecretBox,
}

impl DkimStore {
    pub(crate) fn new(db: DatabaseConnection, secrets: SecretBox) -> Self {
        Self { db, secrets }
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

    /// The settings a send signs with, if any (the notifier itself is not checked).
    pub async fn signing(&self, notifier_id: i64) -> Result<Option<Dkim>> {
        Ok(dkim::get(&self.db, &self.secrets, notifier_id).await?)
    }

    /// Creates or replaces the notifier's settings; [`Error::NotFound`] when the notifier
    /// does not exist (any more).
    pub async fn put(&self, settings: &Dkim) -> Result<()> {
        Ok(dkim::put(&self.db, &self.secrets, settings).await?)
    }

    /// Stops signing: whether there were settings to remove; [`Error::NotFound`] when
    /// there is no such notifier.
    pub async fn delete(&self, notifier_id: i64) -> Result<bool> {
        if dkim::delete(&self.db, notifier_id).await? {
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
