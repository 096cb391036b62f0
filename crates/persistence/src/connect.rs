//! Opening the pool with per-connection settings for each backend.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::sqlx::{ConnectOptions as _, Connection as _};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr, RuntimeErr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }

    /// SQLite has one writer at a time, so a small pool; PostgreSQL gets more.
    pub fn default_max_connections(self) -> u32 {
        match self {
            Backend::Sqlite => 8,
            Backend::Postgres => 16,
        }
    }

    /// How long a request may wait for a pooled connection. SQLite's queue for its one
    /// writer may be long under load. On PostgreSQL the wait is mostly sqlx retrying a
    /// refused connection, sleeping up to a fifth of this between tries: short, so a
    /// request during an outage fails soon and one after it is not left asleep.
    fn acquire_timeout(self) -> Duration {
        match self {
            Backend::Sqlite => Duration::from_secs(30),
            Backend::Postgres => Duration::from_secs(5),
        }
    }
}

/// Writers queue for up to this long instead of failing with "database is locked".
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// A pooled connection unused this long is pinged before it is handed out.
pub(crate) const IDLE_BEFORE_PING: Duration = Duration::from_secs(30);

/// Rows a SQLite connection's thread may hand over before the reader takes them. With
/// sqlx's default (50) a longer result (a block of notifiers, a list's ids) makes the
/// thread wait for every further row: a thread wake-up per row, 12 ms for a block.
const READ_ROWS_BUFFERED: usize = 4096;

/// How long the first connection at start may take before start-up gives up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Connects, creating a SQLite file (and its folder) on first use.
pub async fn connect(url: &str, max_connections: Option<u32>) -> Result<DatabaseConnection, DbErr> {
    let backend = Backend::of_url(url).ok_or_else(|| {
        DbErr::Custom("database.url must start with sqlite:, postgres:// or postgresql://".into())
    })?;
    match backend {
        Backend::Sqlite => create_sqlite_folder(url)?,
        Backend::Postgres => reach_postgres(url).await?,
    }
    let failures = Arc::new(LastFailure::default());
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(max_connections.unwrap_or(backend.default_max_connections()))
        .min_connections(1)
        .acquire_timeout(backend.acquire_timeout())
        // The default pings on every checkout, a second round trip for each statement;
        // only a connection idle long enough for a server or proxy to have dropped it is
        // checked.
        .test_before_acquire_if_idle_for(IDLE_BEFORE_PING)
        .sqlx_logging(false)
        // These apply to every pooled connection (a PRAGMA through the pool would set one),
        // and to the writer's, which is opened from this pool's options.
        .map_sqlx_sqlite_opts(move |opts| {
            opts.busy_timeout(SQLITE_BUSY_TIMEOUT)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .create_if_missing(true)
                .row_buffer_size(READ_ROWS_BUFFERED)
        })
        .map_sqlx_postgres_pool_opts({
            let failures = Arc::clone(&failures);
            move |pool| {
                let failures = Arc::clone(&failures);
                pool.after_connect(move |_, _| {
                    // Seldom in steady state, and usually because a connection was lost:
                    // perhaps its siblings too (the server restarted), though no statement
                    // has failed on them yet.
                    failures.record();
                    Box::pin(async { Ok(()) })
                })
            }
        })
        .map_sqlx_postgres_before_acquire({
            let failures = Arc::clone(&failures);
            move |conn, meta| {
                // One atomic read on the normal path; a round trip only after a failure.
                let suspect =
                    meta.idle_for < IDLE_BEFORE_PING && failures.since_released(meta.idle_for);
                Box::pin(async move {
                    if suspect {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            }
        });
    let mut db = Database::connect(options).await?;
    db.set_metric_callback(move |info| {
        if info.failed {
            failures.record();
        }
    });
    Ok(db)
}

/// When a statement last failed on this pool, or it last opened a connection.
///
/// A PostgreSQL restart or a network cut kills every pooled connection at once, but each
/// is found dead only when used, so each would fail one request. A connection released
/// before the latest failure is therefore pinged before its next use (a dead one is
/// replaced); one released since then has passed the ping sqlx runs on every release.
/// Any failure counts, a unique violation too: at worst a ping per pooled connection.
struct LastFailure {
    origin: Instant,
    /// Nanoseconds from `origin` to the latest failure; 0 for none.
    at: AtomicU64,
}

impl Default for LastFailure {
    fn default() -> Self {
        Self {
            origin: Instant::now(),
            at: AtomicU64::new(0),
        }
    }
}

impl LastFailure {
    fn record(&self) {
        self.record_at(self.origin.elapsed());
    }

    /// Whether a connection idle for `idle_for` was released before the latest failure.
    fn since_released(&self, idle_for: Duration) -> bool {
        self.since_released_at(self.origin.elapsed(), idle_for)
    }

    fn record_at(&self, now: Duration) {
        self.at.fetch_max(nanos(now).max(1), Ordering::Relaxed);
    }

    fn since_released_at(&self, now: Duration, idle_for: Duration) -> bool {
        let at = self.at.load(Ordering::Relaxed);
        at != 0 && nanos(now.saturating_sub(idle_for)) <= at
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// One plain connection before the pool: sqlx's pool retries a refused connection until
/// its timeout and then reports only "pool timed out"; this reports the cause at once.
async fn reach_postgres(url: &str) -> Result<(), DbErr> {
    let options: PgConnectOptions = url.parse().map_err(conn_err)?;
    match tokio::time::timeout(CONNECT_TIMEOUT, options.connect()).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(conn_err(e)),
        Err(_) => Err(DbErr::Conn(RuntimeErr::Internal(format!(
            "no answer from the database server within {CONNECT_TIMEOUT:?}"
        )))),
    }
}

fn conn_err(err: sea_orm::sqlx::Error) -> DbErr {
    DbErr::Conn(RuntimeErr::SqlxError(err.into()))
}

fn create_sqlite_folder(url: &str) -> Result<(), DbErr> {
    let path = url
        .trim_start_matches("sqlite:")
        .trim_start_matches("//")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path.starts_with(':') {
        return Ok(());
    }
    match Path::new(path).parent() {
        Some(folder) if !folder.as_os_str().is_empty() => std::fs::create_dir_all(folder)
            .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", folder.display()))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_connections_released_before_the_last_failure_are_suspect() {
        let secs = Duration::from_secs;
        let failures = LastFailure::default();
        assert!(
            !failures.since_released_at(secs(10), secs(5)),
            "no failure yet"
        );

        failures.record_at(secs(10));

        let cases = [
            (secs(11), secs(5), true, "released at 6, before the failure"),
            (secs(11), secs(1), true, "released at 10, as it failed"),
            (secs(11), Duration::ZERO, false, "released at 11, after it"),
            (secs(20), secs(9), false, "released at 11, after it"),
        ];
        for (now, idle_for, suspect, why) in cases {
            assert_eq!(failures.since_released_at(now, idle_for), suspect, "{why}");
        }
    }
}
