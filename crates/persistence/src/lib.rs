//! Storage for notifiers, users, permission grants and tokens, on SQLite or PostgreSQL.
//!
//! Repository functions take `&impl ConnectionTrait` so they compose inside transactions,
//! and return domain types, never SeaORM models. Passwords pass through [`SecretBox`] on
//! their way in and out; tokens are kept as SHA-256 hashes only.

mod bootstrap;
mod connect;
mod entities;
pub mod epochs;
mod error;
mod keys;
mod migrate;
pub mod notifiers;
mod or_ignore;
mod own_epochs;
mod readiness;
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
pub use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
pub use secret_box::{SecretBox, SecretKeyError};
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
