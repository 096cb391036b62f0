//! Notifiers' DKIM settings (`.../email/{id}/dkim`): a sub-resource, read and written
//! straight through to the database. Nothing here touches the notifier's row, its
//! `updated_at`, the data epoch or the notifier caches: a notifier's body does not show
//! its DKIM settings, and every send reads them afresh.

use notifier_domain::{AuditAction, AuditContext, AuditEntry, Dkim, setting_audit};
use notifier_persistence::{DatabaseConnection, SecretBox, audit, dkim, notifiers};

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
    pub async fn put(&self, settings: &Dkim, audit: &AuditContext) -> Result<()> {
        let id = settings.notifier_id;
        // Read before the transaction: on SQLite a transaction that reads first cannot
        // take the write lock once another connection has written.
        let old = dkim::get(&self.db, &self.secrets, id).await?;
        let txn = audit::begin(&self.db).await?;
        dkim::put(&txn, &self.secrets, settings).await?;
        let changes = setting_audit::dkim(old.as_ref(), Some(settings));
        let record = AuditEntry::new(AuditAction::DkimUpdate, Some(id), changes);
        audit::append(&txn, audit, record).await?;
        Ok(audit::commit(txn).await?)
    }

    /// Stops signing: whether there were settings to remove; [`Error::NotFound`] when
    /// there is no such notifier.
    pub async fn delete(&self, notifier_id: i64, audit: &AuditContext) -> Result<bool> {
        let old = dkim::get(&self.db, &self.secrets, notifier_id).await?;
        let txn = audit::begin(&self.db).await?;
        if dkim::delete(&txn, notifier_id).await? {
            let changes = setting_audit::dkim(old.as_ref(), None);
            let record = AuditEntry::new(AuditAction::DkimDelete, Some(notifier_id), changes);
            audit::append(&txn, audit, record).await?;
            audit::commit(txn).await?;
            return Ok(true);
        }
        drop(txn);
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
