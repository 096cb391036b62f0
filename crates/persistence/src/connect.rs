//! Opening the pool with per-connection settings for each backend.

use std::path::Path;
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

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
}

/// Writers queue for up to this long instead of failing with "database is locked".
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// A pooled connection unused this long is pinged before it is handed out.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(30);

/// Connects, creating a SQLite file (and its folder) on first use.
pub async fn connect(url: &str, max_connections: Option<u32>) -> Result<DatabaseConnection, DbErr> {
    open(url, max_connections, |opts| {
        opts.row_buffer_size(READ_ROWS_BUFFERED)
    })
    .await
}

/// Rows a SQLite connection's thread may hand over before the reader takes them. With
/// sqlx's default (50) a longer result (a block of notifiers, a list's ids) makes the
/// thread wait for every further row: a thread wake-up per row, 12 ms for a block.
const READ_ROWS_BUFFERED: usize = 4096;

/// The one SQLite connection that commits write batches: each batch is one script, and
/// scripts differ in length, so it keeps fewer of them prepared than a pool connection
/// keeps single statements, and it takes a batch's results in one go.
pub(crate) async fn connect_sqlite_writer(url: &str) -> Result<DatabaseConnection, DbErr> {
    open(url, Some(1), |opts| {
        opts.statement_cache_capacity(WRITER_SCRIPTS_KEPT)
            .row_buffer_size(2 * crate::writes::MAX_BATCH + 8)
    })
    .await
}

/// Prepared batch scripts the writer keeps (see `writes`).
const WRITER_SCRIPTS_KEPT: usize = 24;

async fn open(
    url: &str,
    max_connections: Option<u32>,
    sqlite_extra: fn(SqliteConnectOptions) -> SqliteConnectOptions,
) -> Result<DatabaseConnection, DbErr> {
    let backend = Backend::of_url(url).ok_or_else(|| {
        DbErr::Custom("database.url must start with sqlite: or postgres://".into())
    })?;
    if backend == Backend::Sqlite {
        create_sqlite_folder(url)?;
    }
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(max_connections.unwrap_or(backend.default_max_connections()))
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        // The default pings on every checkout, a second round trip for each statement;
        // only a connection idle long enough for a server or proxy to have dropped it is
        // checked.
        .test_before_acquire_if_idle_for(IDLE_BEFORE_PING)
        .sqlx_logging(false)
        // These apply to every pooled connection; a PRAGMA through the pool would set one.
        .map_sqlx_sqlite_opts(move |opts| {
            let opts = opts
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .create_if_missing(true);
            sqlite_extra(opts)
        });
    Database::connect(options).await
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
