//! Running writes: [`Writer::execute`] commits one statement and reports the rows it
//! returned and where it stands in the data epoch's sequence ([`WriteEpoch`]), so a server
//! can update its caches for exactly what it changed.
//!
//! On SQLite the writes that arrive while one commit runs are committed together, in one
//! transaction sent as one script (group commit). SQLite has one writer at a time, and
//! every commit appends each page it touched (a table, its indexes, the id sequence, the
//! epoch row) to the WAL. Committed one by one, concurrent writes rewrite those shared
//! pages per request and queue on each other's locks; each statement also costs two
//! thread hand-offs to the driver's worker thread, which on a busy machine dominate. A
//! batch writes the shared pages once and crosses to the worker once. Statements in a
//! batch must not fail on their own data (callers write them with `ON CONFLICT DO
//! NOTHING` / `OR IGNORE` and read "no row" as the outcome); any failure rolls the whole
//! batch back and every writer in it gets an error, so nothing is reported as saved that
//! was not.
//!
//! PostgreSQL has concurrent writers of its own, so there each statement runs directly
//! on the shared pool, and its error is the caller's to interpret.

mod batch;
mod connection;
mod outcome;
mod script;
#[cfg(test)]
mod tests;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, RuntimeErr, Statement, TransactionTrait,
};

pub use outcome::WriteEpoch;
pub(crate) use outcome::{WriteError, Written};

use crate::{OwnEpochs, Result};

/// Where writes go; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    db: DatabaseConnection,
    /// Where writes wait for their batch, on SQLite.
    batches: Option<batch::Queue>,
    own: OwnEpochs,
}

impl Writer {
    /// On SQLite, opens the one connection all writes use, with the settings of `db`'s
    /// pool, through which queued writes are committed (by a task that the first write
    /// to find none committing starts, and that ends when nothing waits).
    pub async fn start(db: DatabaseConnection) -> Result<Self> {
        let own = OwnEpochs::default();
        let batches = match db.get_database_backend() {
            DbBackend::Sqlite => {
                let connection = connection::open(db.get_sqlite_connection_pool())
                    .await
                    .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(e.into())))?;
                Some(batch::Queue::new(connection, own.clone()))
            }
            _ => None,
        };
        Ok(Self { db, batches, own })
    }

    /// The epochs this writer's batches produced.
    pub fn own_epochs(&self) -> &OwnEpochs {
        &self.own
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// The shared pool, for the reads that explain an empty write.
    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Runs one statement and returns the rows it returned, once they are committed.
    pub(crate) async fn execute(&self, statement: Statement) -> Result<Written, WriteError> {
        match &self.batches {
            Some(batches) => batches.execute(statement, None).await,
            None => self.execute_directly(statement).await,
        }
    }

    /// Runs `statement` and, in the same transaction, `then` if `statement` returned a
    /// row (the audit record of a change: both commit or neither). On SQLite `then` must
    /// test that itself (`WHERE changes() > 0`): the batch runs as one script. `then`
    /// must not write notifiers: the data epoch is not read after it.
    pub(crate) async fn execute_then(
        &self,
        statement: Statement,
        then: Statement,
    ) -> Result<Written, WriteError> {
        match &self.batches {
            Some(batches) => batches.execute(statement, Some(then)).await,
            None => self.execute_in_transaction(statement, then).await,
        }
    }

    /// The statement, then `then` if it returned a row, in one transaction.
    async fn execute_in_transaction(
        &self,
        statement: Statement,
        then: Statement,
    ) -> Result<Written, WriteError> {
        let txn = self.db.begin().await.map_err(WriteError::Failed)?;
        let rows = txn
            .query_all_raw(statement)
            .await
            .map_err(WriteError::Failed)?;
        if !rows.is_empty() {
            txn.execute_raw(then).await.map_err(WriteError::Failed)?;
        }
        txn.commit().await.map_err(WriteError::Failed)?;
        Ok(Written {
            rows,
            epoch: WriteEpoch::Committed,
        })
    }

    /// The statement alone, in autocommit.
    async fn execute_directly(&self, statement: Statement) -> Result<Written, WriteError> {
        let rows = self
            .db
            .query_all_raw(statement)
            .await
            .map_err(WriteError::Failed)?;
        Ok(Written {
            rows,
            epoch: WriteEpoch::Committed,
        })
    }
}
