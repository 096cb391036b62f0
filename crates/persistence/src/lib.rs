//! Storage for notifiers, users, permission grants and tokens, on SQLite or PostgreSQL.
//!
//! Repository functions take `&impl ConnectionTrait` so they compose inside transactions,
//! and return domain types, never SeaORM models. Passwords pass through [`SecretBox`] on
//! their way in and out; tokens are kept as SHA-256 hashes only.
//!
//! # Notifier writes
//!
//! Creating, updating and deleting notifiers go through a [`Writer`], a statement at a
//! time, each committed before its caller hears of it, with the rows it returned and
//! where it stands in the data epoch's sequence ([`WriteEpoch`]). A database trigger
//! moves the data epoch on every notifier write, whoever makes it.
//!
//! - **SQLite**: every write goes through one writer connection, opened with the shared
//!   pool's settings. The writes that queue while a batch commits are committed together,
//!   up to 32 per transaction (a power of two), as one script: `BEGIN IMMEDIATE`, the
//!   epoch, then each statement followed by the epoch, `COMMIT`. Each epoch is read inside
//!   the transaction right after its statement, so it is exact ([`WriteEpoch::Exact`]),
//!   and the server records the ranges its batches wrote ([`OwnEpochs`]). If one statement
//!   fails, its whole batch is rolled back and every write in it fails (as the database
//!   being unavailable), so the statements skip a conflict instead of failing on it
//!   (`ON CONFLICT DO NOTHING`, `UPDATE OR IGNORE`) and the repository reads "no row" as
//!   the conflict.
//! - **PostgreSQL**: each statement runs directly on the shared pool, in autocommit, and
//!   its error is its own (the repository reports a unique violation as a taken name).
//!   The epoch is not read (that would cost every write a second round trip): the write
//!   reports [`WriteEpoch::Committed`], meaning any epoch read that starts after it
//!   returned includes it. Nothing is recorded in [`OwnEpochs`].
//!
//! Users, grants and tokens are written directly on the connection given, as are reads,
//! and so are `Idempotency-Key` claims ([`idempotency`]).

pub mod audit;
pub mod authentication;
mod bootstrap;
mod connect;
pub mod deliveries;
pub mod dkim;
mod entities;
pub mod epochs;
mod error;
pub mod idempotency;
mod key_file;
mod keys;
mod migrate;
pub mod notifiers;
mod or_ignore;
mod own_epochs;
mod pages;
mod readiness;
pub mod rotation;
mod secret_box;
pub mod tokens;
pub mod users;
mod writer;

pub use bootstrap::{ADMIN_USERNAME, Bootstrap, bootstrap_admin};
pub use connect::{Backend, connect};
pub use error::{Error, Result};
pub use migrate::migrate;
pub use own_epochs::OwnEpochs;
pub use readiness::NotReady;
pub use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait,
};
pub use secret_box::{SecretBox, SecretKeyError, generate_key_base64};
pub use writer::{WriteEpoch, Writer};

/// Whether the database answers and takes writes, within a couple of seconds; `/readyz`
/// uses it.
pub async fn ready(db: &DatabaseConnection) -> Result<(), NotReady> {
    readiness::check(db).await
}

/// Open and idle connections in the pool, for the metrics endpoint.
pub fn pool_stats(db: &DatabaseConnection) -> (u32, usize) {
    match db.get_database_backend() {
        sea_orm::DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        sea_orm::DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    }
}
