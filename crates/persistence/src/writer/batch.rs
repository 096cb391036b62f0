//! The SQLite batching task: the writes that queue while one batch commits are committed
//! together in the next, as one script on the writer's one connection.

use std::collections::VecDeque;
use std::sync::Arc;

use futures_util::TryStreamExt;
use sea_orm::sqlx::{self, Either, SqliteConnection, SqlitePool};
use sea_orm::{QueryResult, Statement};
use sea_query_sqlx::SqlxValues;
use tokio::sync::{mpsc, oneshot};

use super::outcome::{WriteEpoch, WriteError, Written};
use super::script::{Committed, Results, Script};
use crate::OwnEpochs;

/// Writes committed in one transaction at most; more wait for the next one. Batches are
/// cut to a power of two and sorted by statement, so few distinct scripts exist and the
/// writer connection keeps them prepared: parsing a script costs more than running it.
pub(super) const MAX_BATCH: usize = 32;
/// Writes waiting for a batch before callers queue on the channel itself.
const QUEUE_DEPTH: usize = 1024;

/// Where writes wait for their batch; cheap to clone.
#[derive(Clone)]
pub(super) struct Queue {
    jobs: mpsc::Sender<Job>,
}

/// One statement, what follows it in its transaction, and where its outcome goes.
struct Job {
    statement: Statement,
    /// Runs right after `statement`, in the same transaction; it must test by itself
    /// whether `statement` changed a row (`changes()`), since the script runs unattended.
    then: Option<Statement>,
    done: oneshot::Sender<Result<Written, WriteError>>,
}

impl Queue {
    /// Starts the task that commits queued writes through `connection` (a pool of one);
    /// the task ends with the last clone of the queue.
    pub(super) fn start(connection: SqlitePool, own: OwnEpochs) -> Self {
        let (jobs, queued) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(commit_batches(connection, queued, own));
        Self { jobs }
    }

    /// Queues the statement (and the one that follows it in its transaction, if any) and
    /// waits until its batch is committed or has failed.
    pub(super) async fn execute(
        &self,
        statement: Statement,
        then: Option<Statement>,
    ) -> Result<Written, WriteError> {
        let (done, outcome) = oneshot::channel();
        self.jobs
            .send(Job {
                statement,
                then,
                done,
            })
            .await
            .map_err(|_| WriteError::Stopped)?;
        outcome.await.unwrap_or(Err(WriteError::Stopped))
    }
}

/// Takes what is queued (at least one write, oldest first), commits it as one
/// transaction, repeats.
async fn commit_batches(pool: SqlitePool, mut queued: mpsc::Receiver<Job>, own: OwnEpochs) {
    let mut pending = VecDeque::with_capacity(MAX_BATCH);
    loop {
        if pending.is_empty() {
            let Some(job) = queued.recv().await else {
                return;
            };
            pending.push_back(job);
        }
        while pending.len() < MAX_BATCH {
            match queued.try_recv() {
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

/// Commits one batch and tells each of its writers the outcome.
async fn commit(pool: &SqlitePool, jobs: Vec<Job>, own: &OwnEpochs) {
    own.batch_started();
    let statements: Vec<&Statement> = jobs
        .iter()
        .flat_map(|job| std::iter::once(&job.statement).chain(job.then.as_ref()))
        .collect();
    let outcome = run(pool, &statements).await;
    // Recorded before any caller hears of its write, so a server never mistakes its own
    // change for someone else's.
    own.batch_ended(outcome.as_ref().ok().map(|committed| committed.range));
    match outcome {
        Ok(committed) => {
            let mut results = committed.statements.into_iter();
            for job in jobs {
                let Some((rows, epoch)) = results.next() else {
                    break;
                };
                // What follows a statement returns nothing its caller reads.
                if job.then.is_some() {
                    results.next();
                }
                let written = Written {
                    rows,
                    epoch: WriteEpoch::Exact(epoch),
                };
                // The caller may have gone (client disconnected); the write stands.
                let _ = job.done.send(Ok(written));
            }
        }
        Err(e) => {
            log::error!("a batch of {} writes was not committed: {e}", jobs.len());
            let why = Arc::new(e);
            for job in jobs {
                let _ = job
                    .done
                    .send(Err(WriteError::BatchFailed(Arc::clone(&why))));
            }
        }
    }
}

/// Runs the statements as one script in one transaction; any failure rolls all of them
/// back.
pub(super) async fn run(
    pool: &SqlitePool,
    statements: &[&Statement],
) -> Result<Committed<QueryResult>, sqlx::Error> {
    let script = Script::new(statements.iter().copied());
    let mut conn = pool.acquire().await?;
    let outcome = run_script(&mut conn, script).await;
    if outcome.is_err() {
        // The script stopped part-way, perhaps inside its transaction: undo it, and let
        // the pool replace the connection rather than trust its state.
        let _ = sqlx::Executor::execute(&mut *conn, "ROLLBACK").await;
        conn.close_on_drop();
    }
    outcome
}

async fn run_script(
    conn: &mut SqliteConnection,
    script: Script,
) -> Result<Committed<QueryResult>, sqlx::Error> {
    let query = sqlx::query_with(sqlx::AssertSqlSafe(script.sql), SqlxValues(script.values))
        // Kept prepared on the writer connection (see MAX_BATCH).
        .persistent(true);
    let mut stream = sqlx::Executor::fetch_many(conn, query);
    let mut results = Results::default();
    while let Some(result) = stream.try_next().await? {
        match result {
            Either::Right(row) => results.row(QueryResult::from(row)),
            Either::Left(_) => results.done(),
        }
    }
    results
        .split(script.statements, |row| row.try_get_by_index::<i64>(0).ok())
        .map_err(|e| sqlx::Error::Protocol(e.to_string()))
}
