//! Applying migrations, safely when several instances start at once.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, TransactionTrait};

/// Any fixed number works; it names the lock that serializes migrations on PostgreSQL.
const MIGRATION_LOCK_ID: i64 = 0x6e6f_7469_6669_6572;

/// Applies pending migrations. On PostgreSQL, instances starting together take turns under
/// an advisory lock inside one transaction, so no step runs twice or half-way.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let txn = db.begin().await?;
            txn.execute_unprepared(&format!(
                "SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})"
            ))
            .await?;
            Migrator::up(&txn, None).await?;
            txn.commit().await
        }
        _ => Migrator::up(db, None).await,
    }
}
