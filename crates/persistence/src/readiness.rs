//! Whether this server can do its job: the database answers *and* takes writes.
//!
//! A read-only database (a write-protected SQLite file, a PostgreSQL standby or a
//! read-only default) answers every read while every write fails; `/readyz` must say so.
//! The check is one cheap statement that writes nothing, under a short deadline: probes run
//! every few seconds and give up after about one.

use std::time::Duration;

use sea_orm::sqlx::sqlite::SqliteConnectOptions;
use sea_orm::sqlx::{self, ConnectOptions, Connection, SqlitePool};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

/// The whole check's bound, waits for a connection included (a load balancer's probe
/// usually gives up after a second or two).
const DEADLINE: Duration = Duration::from_secs(2);

/// How long the SQLite check waits for another writer's lock.
const SQLITE_LOCK_WAIT: Duration = Duration::from_secs(1);

/// Why the server is not ready.
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    #[error("the database does not answer")]
    Unreachable(#[source] DbErr),
    #[error("the database is read-only")]
    ReadOnly(#[source] Option<DbErr>),
    #[error("the database did not answer within {0:?}")]
    TimedOut(Duration),
}

/// `Ok` when the database answers and can be written.
pub async fn check(db: &DatabaseConnection) -> Result<(), NotReady> {
    let checked = async {
        match db.get_database_backend() {
            DbBackend::Sqlite => sqlite_writable(db.get_sqlite_connection_pool()).await,
            _ => postgres_writable(db).await,
        }
    };
    tokio::time::timeout(DEADLINE, checked)
        .await
        .unwrap_or(Err(NotReady::TimedOut(DEADLINE)))
}

/// A write that changes nothing still needs a writable database: `BEGIN IMMEDIATE` alone
/// does not (on a read-only file it quietly starts a read transaction).
pub(crate) const SQLITE_NO_OP_WRITE: &str = "DELETE FROM server_meta WHERE 0";

/// Tries a no-op write on a connection of its own, opened now: a pooled connection keeps
/// the mode the file had when it was opened, while this one sees the file as it is, so
/// readiness comes back as soon as the file is writable again. The pool's connections
/// wait 30 s for a lock; this one only briefly.
async fn sqlite_writable(pool: &SqlitePool) -> Result<(), NotReady> {
    let options: SqliteConnectOptions = (*pool.connect_options())
        .clone()
        .create_if_missing(false)
        .busy_timeout(SQLITE_LOCK_WAIT);
    let mut conn = options.connect().await.map_err(unreachable)?;
    let written = sqlx::query(SQLITE_NO_OP_WRITE).execute(&mut conn).await;
    let _ = conn.close().await;
    match written {
        Ok(_) => Ok(()),
        // Someone holds the write lock: the file takes writes, ours just queue a moment.
        Err(e) if sqlite_code(&e) == Some(SQLITE_BUSY) => Ok(()),
        Err(e) if is_sqlite_read_only(&e) => Err(NotReady::ReadOnly(Some(query_err(e)))),
        Err(e) => Err(unreachable(e)),
    }
}

const SQLITE_BUSY: i32 = 5;
const SQLITE_READONLY: i32 = 8;

pub(crate) fn is_sqlite_read_only(err: &sqlx::Error) -> bool {
    sqlite_code(err) == Some(SQLITE_READONLY)
}

/// The primary result code of a SQLite error (sqlx reports the extended one).
fn sqlite_code(err: &sqlx::Error) -> Option<i32> {
    let code = err.as_database_error()?.code()?;
    code.parse::<i32>().ok().map(|extended| extended & 0xff)
}

/// One round trip: a standby is in recovery; a read-only default shows in the implicit
/// transaction this statement runs in.
const POSTGRES_READ_ONLY: &str = "SELECT pg_is_in_recovery() \
     OR current_setting('transaction_read_only') = 'on' AS read_only";

async fn postgres_writable(db: &DatabaseConnection) -> Result<(), NotReady> {
    let statement = Statement::from_string(DbBackend::Postgres, POSTGRES_READ_ONLY);
    let row = match db.query_one_raw(statement.clone()).await {
        Ok(row) => row,
        // A pooled connection the server has dropped says nothing about the server now.
        // The failure makes the pool check connections idle since before it (see
        // `connect`), so a second try gets a live connection or a fresh one.
        Err(_) => db
            .query_one_raw(statement)
            .await
            .map_err(NotReady::Unreachable)?,
    };
    let read_only: bool = row
        .ok_or_else(|| NotReady::Unreachable(DbErr::RecordNotFound("no row".into())))?
        .try_get("", "read_only")
        .map_err(NotReady::Unreachable)?;
    if read_only {
        Err(NotReady::ReadOnly(None))
    } else {
        Ok(())
    }
}

fn query_err(err: sqlx::Error) -> DbErr {
    DbErr::Query(sea_orm::RuntimeErr::SqlxError(err.into()))
}

fn unreachable(err: sqlx::Error) -> NotReady {
    NotReady::Unreachable(query_err(err))
}
