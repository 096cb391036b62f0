//! Notifiers' DKIM settings (`.../email/{id}/dkim`): a sub-resource, read and written
//! straight through to the database. Nothing here touches the notifier's row, its
//! `updated_at`, the data epoch or the notifier caches: a notifier's body does not show
//! its DKIM settings. Sends read them through the sending cache, which every write here
//! retires.

use notifier_domain::{AuditAction, AuditContext, AuditEntry, Dkim, setting_audit};
use notifier_persistence::{DatabaseConnection, SecretBox, audit, dkim, notifiers};

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
    pub async fn put(&self, settings: &Dkim, audit: &AuditContext) -> Result<()> {
        let written = self.put_recorded(settings, audit).await;
        // Whatever the outcome: a failed write may still have committed.
        let retired = self.sending.written().await;
        written?;
        retired
    }

    /// Stops signing: whether there were settings to remove; [`Error::NotFound`] when
    /// there is no such notifier.
    pub async fn delete(&self, notifier_id: i64, audit: &AuditContext) -> Result<bool> {
        let deleted = self.delete_recorded(notifier_id, audit).await;
        let retired = self.sending.written().await;
        if deleted? {
            retired?;
            return Ok(true);
        }
        self.exists(notifier_id).await?;
        Ok(false)
    }

    /// The write and its audit record, in one transaction.
    async fn put_recorded(&self, settings: &Dkim, audit: &AuditContext) -> Result<()> {
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

    /// The delete and its audit record, in one transaction; false (nothing kept) when
    /// there were no settings.
    async fn delete_recorded(&self, notifier_id: i64, audit: &AuditContext) -> Result<bool> {
        let old = dkim::get(&self.db, &self.secrets, notifier_id).await?;
        let txn = audit::begin(&self.db).await?;
        if !dkim::delete(&txn, notifier_id).await? {
            return Ok(false);
        }
        let changes = setting_audit::dkim(old.as_ref(), None);
        let record = AuditEntry::new(AuditAction::DkimDelete, Some(notifier_id), changes);
        audit::append(&txn, audit, record).await?;
        audit::commit(txn).await?;
        Ok(true)
    }

    async fn exists(&self, notifier_id: i64) -> Result<()> {
        match notifiers::get(&self.db, &self.secrets, notifier_id).await {
            Ok(_) => Ok(()),
            Err(notifier_persistence::Error::NotFound) => Err(Error::NotFound),
            Err(e) => Err(e.into()),
        }
    }
}
