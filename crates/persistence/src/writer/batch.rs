//! SQLite batching: the writes that queue while one batch commits are committed together
//! in the next, as one script on the writer's one connection.
//!
//! No task waits for writes: the write that finds no batch committing starts the task
//! that commits, on the runtime it runs on (an HTTP worker's, usually), and that task ends
//! once the queue is empty. A write thus costs no hand-off to another runtime's thread,
//! and the replies of a batch mostly go to tasks on the thread that committed it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use futures_util::TryStreamExt;
use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::{self, Either, Sqlite, SqliteConnection, SqlitePool};
use sea_orm::{QueryResult, Statement};
use sea_query_sqlx::SqlxValues;
use tokio::sync::oneshot;

use super::outcome::{WriteEpoch, WriteError, Written};
use super::script::{Committed, Results, Script, Write};
use crate::OwnEpochs;

/// Writes committed in one transaction at most; more wait for the next one. Batches are
/// cut to a power of two and sorted by statement, so few distinct scripts exist and the
/// writer connection keeps them prepared: parsing a script costs more than running it.
pub(super) const MAX_BATCH: usize = 32;

/// Where writes wait for their batch; cheap to clone.
#[derive(Clone)]
pub(super) struct Queue {
    shared: Arc<Shared>,
}

struct Shared {
    /// The writer's pool of one connection.
    pool: SqlitePool,
    own: OwnEpochs,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Oldest first.
    waiting: VecDeque<Job>,
    /// Whether a task is committing batches (and will take what waits).
    committing: bool,
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
    /// Commits queued writes through `pool` (a pool of one).
    pub(super) fn new(pool: SqlitePool, own: OwnEpochs) -> Self {
        Self {
            shared: Arc::new(Shared {
                pool,
                own,
                state: Mutex::default(),
            }),
        }
    }

    /// Queues the statement (and the one that follows it in its transaction, if any) and
    /// waits until its batch is committed or has failed.
    pub(super) async fn execute(
        &self,
        statement: Statement,
        then: Option<Statement>,
    ) -> Result<Written, WriteError> {
        let (done, outcome) = oneshot::channel();
        let job = Job {
            statement,
            then,
            done,
        };
        let start = {
            let mut state = self.shared.state();
            state.waiting.push_back(job);
            !std::mem::replace(&mut state.committing, true)
        };
        if start {
            // Spawned, so that a caller that goes away (a client that disconnects) does
            // not take the batch, and the other writers in it, along.
            tokio::spawn(commit_batches(Arc::clone(&self.shared)));
        }
        outcome.await.unwrap_or(Err(WriteError::Stopped))
    }
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // Held only to move jobs in and out; a panic there leaves the queue consistent.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The next batch (at most [`MAX_BATCH`], oldest first, cut to a power of two), or
    /// none, and then this task stops committing.
    fn next_batch(&self) -> Option<Vec<Job>> {
        let mut state = self.state();
        if state.waiting.is_empty() {
            state.committing = false;
            return None;
        }
        let size = 1 << state.waiting.len().min(MAX_BATCH).ilog2();
        Some(state.waiting.drain(..size).collect())
    }
}

/// Commits what waits, batch after batch, until nothing does. The connection is kept
/// from one batch to the next: given back to its pool after each, it returned through a
/// task of the pool's, and the next batch waited for that task (a third of a batch's
/// time under load).
async fn commit_batches(shared: Arc<Shared>) {
    let mut connection = None;
    while let Some(mut batch) = shared.next_batch() {
        // Writes in one batch are concurrent requests, so any order among them is valid.
        batch.sort_by(|a, b| a.statement.sql.cmp(&b.statement.sql));
        commit(&shared.pool, &mut connection, batch, &shared.own).await;
    }
}

/// Commits one batch through `connection` (taken from `pool` when there is none) and
/// tells each of its writers the outcome.
async fn commit(
    pool: &SqlitePool,
    connection: &mut Option<PoolConnection<Sqlite>>,
    jobs: Vec<Job>,
    own: &OwnEpochs,
) {
    own.batch_started();
    let writes: Vec<Write> = jobs
        .iter()
        .map(|job| (&job.statement, job.then.as_ref()))
        .collect();
    let outcome = run(pool, connection, &writes).await;
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

/// Runs the writes as one script in one transaction, on `connection` or, when there is
/// none, on one taken from `pool`; any failure rolls all of them back, and closes the
/// connection (`connection` is then empty).
pub(super) async fn run(
    pool: &SqlitePool,
    connection: &mut Option<PoolConnection<Sqlite>>,
    writes: &[Write<'_>],
) -> Result<Committed<QueryResult>, sqlx::Error> {
    let script = Script::new(writes.iter().copied());
    let conn = match connection {
        Some(conn) => conn,
        None => connection.insert(pool.acquire().await?),
    };
    let outcome = run_script(conn, script).await;
    if outcome.is_err() {
        // The script stopped part-way, perhaps inside its transaction: undo it, and let
        // the pool replace the connection rather than trust its state.
        let _ = sqlx::Executor::execute(&mut **conn, "ROLLBACK").await;
        if let Some(mut conn) = connection.take() {
            conn.close_on_drop();
        }
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
        .split(&script.followed, |row| row.try_get_by_index::<i64>(0).ok())
        .map_err(|e| sqlx::Error::Protocol(e.to_string()))
}
