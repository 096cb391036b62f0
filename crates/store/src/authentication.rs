//! How notifiers log in: the `/authentication` sub-resource, and the method every send
//! and check reads.
//!
//! Sends read it through the sending cache ([`crate::sending`]), which every write here
//! retires: at once on this instance, within the epochs' bound elsewhere. It is not part
//! of the notifier:
//! a PUT here changes no notifier body, no `updated_at` and no data epoch, so no cached
//! notifier or list page is retired. The change hooks are told, so that the mailer drops
//! the notifier's pooled connections and access token (got the old way).

use notifier_domain::{
    AuditAction, AuditContext, AuditEntry, Authentication, AuthenticationInput, setting_audit,
};
use notifier_persistence::{DatabaseConnection, SecretBox, authentication};

use crate::ChangeHooks;
use crate::sending::SendingCache;

/// Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct AuthenticationStore {
    db: DatabaseConnection,
    secrets: SecretBox,
    hooks: ChangeHooks,
    sending: SendingCache,
}

impl AuthenticationStore {
    pub(crate) fn new(
        db: DatabaseConnection,
        secrets: SecretBox,
        hooks: ChangeHooks,
        sending: SendingCache,
    ) -> Self {
        Self {
            db,
            secrets,
            hooks,
            sending,
        }
    }

    /// The notifier's method (`password` when none was set); [`crate::Error::NotFound`]
    /// for an unknown notifier.
    pub async fn get(&self, notifier_id: i64) -> crate::Result<Authentication> {
        Ok(authentication::get(&self.db, &self.secrets, notifier_id).await?)
    }

    /// Sets the notifier's method and returns it as stored: `********` keeps a stored
    /// secret, unless the token URL changes ([`crate::Error::Invalid`]);
    /// [`crate::Error::NotFound`] for an unknown notifier.
    pub async fn put(
        &self,
        notifier_id: i64,
        input: AuthenticationInput,
        audit: &AuditContext,
    ) -> crate::Result<Authentication> {
        let stored = self.get(notifier_id).await?;
        let auth = input.resolve(&stored).map_err(crate::Error::Invalid)?;
        let record = AuditEntry::new(
            AuditAction::AuthenticationUpdate,
            Some(notifier_id),
            setting_audit::authentication(&stored, &auth),
        );
        let written = self.put_recorded(notifier_id, &auth, audit, record).await;
        // Told whatever the outcome: a failed write may still have committed.
        self.hooks.changed(notifier_id);
        let retired = self.sending.written().await;
        written?;
        retired?;
        Ok(auth)
    }

    /// The write and its audit record, in one transaction.
    async fn put_recorded(
        &self,
        notifier_id: i64,
        auth: &Authentication,
        audit: &AuditContext,
        record: AuditEntry,
    ) -> notifier_persistence::Result<()> {
        let txn = notifier_persistence::audit::begin(&self.db).await?;
        authentication::put(&txn, &self.secrets, notifier_id, auth).await?;
        notifier_persistence::audit::append(&txn, audit, record).await?;
        notifier_persistence::audit::commit(txn).await
    }

    /// Stores a refresh token the token endpoint rotated, in place of `previous` (unless
    /// the notifier was set otherwise since); whether it was stored.
    pub async fn rotate_refresh_token(
        &self,
        notifier_id: i64,
        previous: &str,
        refresh_token: &str,
    ) -> crate::Result<bool> {
        let stored = authentication::rotate_refresh_token(
            &self.db,
            &self.secrets,
            notifier_id,
            previous,
            refresh_token,
        )
        .await?;
        if stored {
            self.sending.written().await?;
        }
        Ok(stored)
    }
}
