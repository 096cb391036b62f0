//! The audit log (§12) for the HTTP layer and the sweeper: pages of records, appends
//! that record no other write (a `/test`), and retention. Uncached: records are read
//! rarely, by people looking for one.

use std::time::Duration;

use notifier_domain::{AuditContext, AuditEntry, AuditQuery, AuditRecord};
use notifier_persistence::{DatabaseConnection, Writer, audit};

use crate::{Clock, Error, Result};

/// Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct AuditStore {
    db: DatabaseConnection,
    writer: Writer,
    clock: Clock,
}

impl AuditStore {
    pub(crate) fn new(db: DatabaseConnection, writer: Writer, clock: Clock) -> Self {
        Self { db, writer, clock }
    }

    /// One page, newest first: its number, the count of all matching, and its records; a
    /// page past the last is an error, as DRF's.
    pub async fn page(&self, query: &AuditQuery) -> Result<(u64, u64, Vec<AuditRecord>)> {
        audit::page(&self.db, query)
            .await?
            .ok_or(Error::PageOutOfRange)
    }

    /// Records an action that changes nothing stored (a `/test`).
    pub async fn append(&self, context: &AuditContext, entry: AuditEntry) -> Result<()> {
        Ok(audit::append(&self.db, context, entry).await?)
    }

    /// Deletes records older than `retention`, at most `limit` at a time.
    pub async fn prune(&self, retention: Duration, limit: u64) -> Result<u64> {
        let before = self.clock.utc_now()
            - chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::MAX);
        Ok(audit::prune(&self.writer, before, limit).await?)
    }
}
