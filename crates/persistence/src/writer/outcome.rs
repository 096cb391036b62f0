//! What a write comes back with: the rows its statement returned and where it stands in
//! the data epoch's sequence, or why it was not committed.

use std::sync::Arc;

use sea_orm::sqlx;
use sea_orm::{DbErr, QueryResult};

use crate::Error;

/// A committed statement's rows and epoch.
pub(crate) struct Written {
    pub rows: Vec<QueryResult>,
    pub epoch: WriteEpoch,
}

/// Where a committed write stands in the data epoch's sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteEpoch {
    /// Read inside the write's own transaction, right after it: the rows it returned are
    /// the data exactly as of this epoch.
    Exact(i64),
    /// Committed, at an epoch not read (PostgreSQL: reading it would cost every write a
    /// second round trip and a scan of the counters): any epoch read that starts after
    /// the write returned includes it.
    Committed,
}

/// Why a write was not committed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WriteError {
    /// The statement failed by itself (PostgreSQL, where each runs on its own): the
    /// database's error, for the caller to interpret (a unique violation, say).
    #[error("the write failed")]
    Failed(#[source] DbErr),
    /// Its batch was not committed (SQLite): every write in the batch gets this cause.
    #[error("the write's batch was not committed")]
    BatchFailed(#[source] Arc<sqlx::Error>),
    /// The task committing its batch was stopped (its runtime shut down) first.
    #[error("the writer stopped before the write was committed")]
    Stopped,
}

impl From<WriteError> for Error {
    fn from(err: WriteError) -> Self {
        match err {
            WriteError::Failed(e) => e.into(),
            // Not the statement's fault: the database refused the whole transaction (locked
            // too long, read-only, full, gone); trying again later may succeed.
            WriteError::BatchFailed(why) => not_committed(&why.to_string()),
            WriteError::Stopped => not_committed("the writer stopped"),
        }
    }
}

fn not_committed(why: &str) -> Error {
    Error::Unavailable(DbErr::Custom(format!("write not committed: {why}")))
}
