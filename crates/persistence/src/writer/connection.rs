//! The one SQLite connection that commits write batches. It is opened from the shared
//! pool's own options, so it reaches the same file with the same per-connection settings
//! (WAL, busy timeout, synchronous, foreign keys, statement logging), plus a few of its
//! own. Since no other connection of ours writes, its page cache stays valid.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sea_orm::sqlx::{self, Connection as _, SqlitePool};

use super::batch::MAX_BATCH;
use crate::connect::IDLE_BEFORE_PING;
use crate::readiness::{SQLITE_NO_OP_WRITE, is_sqlite_read_only};

/// Prepared batch scripts the writer keeps: scripts differ in length, so it keeps fewer
/// of them than a pool connection keeps single statements.
const SCRIPTS_KEPT: usize = 24;

/// Results the connection's thread may hand over before the batch takes them: all of the
/// longest script's (per write: its row and "done", the epoch read's row and "done", the
/// following statement's "done"; and a few around them). With fewer, the thread stops
/// mid-script until the batch's task is next scheduled, and the transaction, which every
/// other write waits for, stays open that long.
const RESULTS_BUFFERED: usize = 5 * MAX_BATCH + 8;

/// A pool of exactly one connection, with the shared pool's acquire timeout and
/// connection lifetimes.
pub(super) async fn open(shared: &SqlitePool) -> Result<SqlitePool, sqlx::Error> {
    let options = (*shared.connect_options())
        .clone()
        .statement_cache_capacity(SCRIPTS_KEPT)
        .row_buffer_size(RESULTS_BUFFERED);
    let opened_read_only = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&opened_read_only);
    shared
        .options()
        .clone()
        .max_connections(1)
        .min_connections(1)
        // Pinged only after a long idle (below), as the shared pool's connections are.
        .test_before_acquire(false)
        // A SQLite connection keeps the mode its file had when it was opened: one opened
        // while the file was write-protected fails every write even after the file is
        // writable again. Each new connection tries a no-op write once; one opened
        // read-only is replaced at its next checkout, so the first write after the file
        // recovers succeeds. The pool holds one connection, so one flag describes it.
        .after_connect(move |conn, _| {
            let flag = Arc::clone(&flag);
            Box::pin(async move {
                let tried = sqlx::query(SQLITE_NO_OP_WRITE).execute(&mut *conn).await;
                let read_only = tried.is_err_and(|e| is_sqlite_read_only(&e));
                flag.store(read_only, Ordering::Relaxed);
                Ok(())
            })
        })
        // Replaces the shared pool's hook, which pings a connection idle for long.
        .before_acquire(move |conn, meta| {
            let replace = opened_read_only.swap(false, Ordering::Relaxed);
            Box::pin(async move {
                if replace {
                    return Ok(false);
                }
                if meta.idle_for >= IDLE_BEFORE_PING {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .connect_with(options)
        .await
}
