//! Running notifier writes: on SQLite, the writes that arrive while one commit runs are
//! committed together, in one transaction sent as one script (group commit).
//!
//! SQLite has one writer at a time, and every commit appends each page it touched (the
//! table, its four indexes, the id sequence, the epoch row) to the WAL. Committed one by
//! one, concurrent writes rewrite those shared pages per request and queue on each other's
//! locks; each statement also costs two thread hand-offs to the driver's worker thread,
//! which on a busy machine dominate. A batch writes the shared pages once and crosses to
//! the worker once. Statements in a batch must not fail on their own data (the repository
//! writes them with `ON CONFLICT DO NOTHING` / `OR IGNORE` and reads "no row" as the
//! outcome); any failure rolls the whole batch back and every writer in it gets an error,
//! so nothing is reported as saved that was not.
//!
//! PostgreSQL has concurrent writers of its own, so there each statement runs directly.
//!
//! Every write reports where it stands in the data epoch's sequence ([`WriteEpoch`]), so
//! a server can update its caches for exactly what it changed.

use futures_util::TryStreamExt;
use sea_orm::sea_query::Values;
use sea_orm::sqlx::{self, Either, SqlitePool};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, QueryResult, Statement};
use sea_query_sqlx::SqlxValues;
use tokio::sync::{mpsc, oneshot};

use crate::{Error, OwnEpochs, Result};

/// Writes committed in one transaction at most; more wait for the next one. Batches are
/// cut to a power of two and sorted by statement, so few distinct scripts exist and the
/// writer connection keeps them prepared: parsing a script costs more than running it.
pub(crate) const MAX_BATCH: usize = 32;
/// Writes waiting for a batch before callers queue on the channel itself.
const QUEUE_DEPTH: usize = 1024;

/// One statement and where its outcome (or the reason its batch failed) goes.
struct Job {
    statement: Statement,
    done: oneshot::Sender<std::result::Result<Written, String>>,
}

/// What a committed statement returned and when.
pub(crate) struct Written {
    pub rows: Vec<QueryResult>,
    pub epoch: WriteEpoch,
}

/// Where a committed write stands in the data epoch's sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteEpoch {
    /// Read inside the write's own transaction, right after it: the rows it returned are
    /// the notifier exactly as of this epoch.
    Exact(i64),
    /// Read after the commit: the write is at or before this epoch.
    AtMost(i64),
    /// Not known (the read after the commit failed).
    Unknown,
}

/// Where notifier writes go; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    db: DatabaseConnection,
    /// The batching task's queue, on SQLite.
    batches: Option<mpsc::Sender<Job>>,
    own: OwnEpochs,
}

impl Writer {
    /// On SQLite, opens the one connection all writes use (its page cache stays valid,
    /// since no other connection of ours writes) and starts the task that commits queued
    /// writes through it; the task ends with the last clone.
    pub async fn start(db: DatabaseConnection, url: &str) -> Result<Self> {
        let own = OwnEpochs::default();
        let batches = match db.get_database_backend() {
            DbBackend::Sqlite => {
                let writer = crate::connect::connect_sqlite_writer(url).await?;
                let pool = writer.get_sqlite_connection_pool().clone();
                let (queue, jobs) = mpsc::channel(QUEUE_DEPTH);
                tokio::spawn(commit_batches(pool, jobs, own.clone()));
                Some(queue)
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
    pub(crate) async fn write(&self, statement: Statement) -> Result<Written> {
        let Some(batches) = &self.batches else {
            let rows = self
                .db
                .query_all_raw(statement)
                .await
                .map_err(crate::notifiers::name_conflict)?;
            // Committed: a failed read of the epoch must not turn it into an error.
            let epoch = match crate::epochs::data(&self.db).await {
                Ok(epoch) => WriteEpoch::AtMost(epoch),
                Err(_) => WriteEpoch::Unknown,
            };
            return Ok(Written { rows, epoch });
        };
        let (done, outcome) = oneshot::channel();
        batches
            .send(Job { statement, done })
            .await
            .map_err(|_| not_committed("the write queue has stopped"))?;
        match outcome.await {
            Ok(Ok(written)) => Ok(written),
            Ok(Err(why)) => Err(not_committed(&why)),
            Err(_) => Err(not_committed("the write queue dropped the write")),
        }
    }
}

fn not_committed(why: &str) -> Error {
    Error::Unavailable(DbErr::Custom(format!("write not committed: {why}")))
}

/// Takes what is queued (at least one write, oldest first), commits it as one
/// transaction, repeats.
async fn commit_batches(pool: SqlitePool, mut jobs: mpsc::Receiver<Job>, own: OwnEpochs) {
    let mut pending = std::collections::VecDeque::with_capacity(MAX_BATCH);
    loop {
        if pending.is_empty() {
            let Some(job) = jobs.recv().await else { return };
            pending.push_back(job);
        }
        while pending.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => pending.push_back(job),
                Err(_) => break,
            }
        }
        let size = 1 << pending.len().ilog2();
        let mut batch: Vec<Job> = pending.drain(..size).collect();
        // Writes in one batch are concurrent requests, so any order among them is valid.
        batch.sort_by(|a, b| a.statement.sql.cmp(&b.statement.sql));
        commit(&pool, batch, &own).await;
    }
}

async fn commit(pool: &SqlitePool, jobs: Vec<Job>, own: &OwnEpochs) {
    own.batch_started();
    let outcome = run_batch(pool, &jobs).await;
    // Recorded before any caller hears of its write, so a server never mistakes its own
    // change for someone else's.
    own.batch_ended(outcome.as_ref().ok().map(|batch| batch.range));
    match outcome {
        Ok(batch) => {
            for (job, written) in jobs.into_iter().zip(batch.written) {
                // The caller may have gone (client disconnected); the write stands.
                let _ = job.done.send(Ok(written));
            }
        }
        Err(e) => {
            let why = e.to_string();
            log::error!("a batch of {} writes was not committed: {why}", jobs.len());
            for job in jobs {
                let _ = job.done.send(Err(why.clone()));
            }
        }
    }
}

/// A committed batch: each job's outcome, and the epochs `(before, after]` it wrote.
struct Batch {
    written: Vec<Written>,
    range: (i64, i64),
}

/// Reads the data epoch inside the batch's transaction (the trigger moves it per row).
const READ_EPOCH: &str =
    "SELECT CAST(value AS INTEGER) FROM server_meta WHERE name = 'data_epoch';\n";

/// `BEGIN IMMEDIATE; epoch; s1; epoch; s2; epoch; ...; COMMIT` in one call; the rows of
/// each statement and the epoch right after it.
async fn run_batch(pool: &SqlitePool, jobs: &[Job]) -> std::result::Result<Batch, sqlx::Error> {
    let mut script = String::from("BEGIN IMMEDIATE;\n");
    script.push_str(READ_EPOCH);
    let mut values = Vec::new();
    for job in jobs {
        script.push_str(&job.statement.sql);
        script.push_str(";\n");
        script.push_str(READ_EPOCH);
        if let Some(Values(bound)) = &job.statement.values {
            values.extend(bound.iter().cloned());
        }
    }
    script.push_str("COMMIT;");
    let statements = 2 * jobs.len() + 3;
    let mut conn = pool.acquire().await?;
    let results = {
        let query = sqlx::query_with(sqlx::AssertSqlSafe(script), SqlxValues(Values(values)))
            // Kept prepared on the writer connection (see MAX_BATCH).
            .persistent(true);
        let mut stream = sqlx::Executor::fetch_many(&mut *conn, query);
        // One "done" per statement, after its rows.
        let mut per_statement: Vec<Vec<QueryResult>> = Vec::with_capacity(statements);
        let mut rows = Vec::new();
        let mut failure = None;
        loop {
            match stream.try_next().await {
                Ok(Some(Either::Right(row))) => rows.push(QueryResult::from(row)),
                Ok(Some(Either::Left(_))) => per_statement.push(std::mem::take(&mut rows)),
                Ok(None) => break,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        match failure {
            None if per_statement.len() == statements => Ok(per_statement),
            None => Err(sqlx::Error::Protocol(format!(
                "a batch of {statements} statements reported {} results",
                per_statement.len()
            ))),
            Some(e) => Err(e),
        }
    };
    match results.and_then(|per_statement| to_batch(per_statement, jobs.len())) {
        Ok(batch) => Ok(batch),
        Err(e) => {
            // The script stopped part-way, perhaps inside its transaction: undo it, and
            // let the pool replace the connection rather than trust its state.
            let _ = sqlx::Executor::execute(&mut *conn, "ROLLBACK").await;
            conn.close_on_drop();
            Err(e)
        }
    }
}

/// Pairs each job's rows with the epoch read after it (BEGIN, epoch, then a statement and
/// an epoch per job, then COMMIT).
fn to_batch(
    per_statement: Vec<Vec<QueryResult>>,
    jobs: usize,
) -> std::result::Result<Batch, sqlx::Error> {
    let epoch = |rows: &[QueryResult]| {
        rows.first()
            .and_then(|row| row.try_get_by_index::<i64>(0).ok())
            .ok_or_else(|| sqlx::Error::Protocol("the data epoch could not be read".into()))
    };
    let missing = || sqlx::Error::Protocol("a batch result is missing".into());
    let mut results = per_statement.into_iter().skip(1);
    let before = epoch(&results.next().ok_or_else(missing)?)?;
    let mut written = Vec::with_capacity(jobs);
    let mut after = before;
    for _ in 0..jobs {
        let (Some(rows), Some(read)) = (results.next(), results.next()) else {
            return Err(missing());
        };
        after = epoch(&read)?;
        written.push(Written {
            rows,
            epoch: WriteEpoch::Exact(after),
        });
    }
    Ok(Batch {
        written,
        range: (before, after),
    })
}
