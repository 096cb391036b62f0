//! How notifiers log in: the `/authentication` sub-resource, and the method every send
//! and check reads.
//!
//! Uncached: a send reads it afresh with the notifier (one primary-key lookup), so a PUT
//! on any instance holds for the next send everywhere. It is not part of the notifier:
//! a PUT here changes no notifier body, no `updated_at` and no data epoch, so no cached
//! notifier or list page is retired. The change hooks are told, so that the mailer drops
//! the notifier's pooled connections (logged in the old way).

use notifier_domain::Authentication;
use notifier_persistence::{DatabaseConnection, authentication};

use crate::ChangeHooks;

/// Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct AuthenticationStore {
    db: DatabaseConnection,
    hooks: ChangeHooks,
}

impl AuthenticationStore {
    pub(crate) fn new(db: DatabaseConnection, hooks: ChangeHooks) -> Self {
        Self { db, hooks }
    }

    /// The notifier's method (`password` when none was set); [`crate::Error::NotFound`]
    /// for an unknown notifier.
    pub async fn get(&self, notifier_id: i64) -> crate::Result<Authentication> {
        Ok(authentication::get(&self.db, notifier_id).await?)
    }

    /// Sets the notifier's method and returns it as stored; [`crate::Error::NotFound`]
    /// for an unknown notifier.
    pub async fn put(
        &self,
        notifier_id: i64,
        auth: Authentication,
    ) -> crate::Result<Authentication> {
        let written = authentication::put(&self.db, notifier_id, auth).await;
        // Told whatever the outcome: a failed write may still have committed.
        self.hooks.changed(notifier_id);
        written?;
        Ok(auth)
    }

    /// The method a send or check through this notifier (just read) uses.
    pub async fn for_sending(&self, notifier_id: i64) -> crate::Result<Authentication> {
        Ok(authentication::for_sending(&self.db, notifier_id).await?)
    }
}
