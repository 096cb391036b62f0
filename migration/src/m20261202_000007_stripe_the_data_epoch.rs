use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Stripes on PostgreSQL: 64 counters whose sum is the data epoch.
const STRIPES: i32 = 64;

/// On PostgreSQL the data epoch becomes the sum of striped counters instead of one row:
/// with one row, every notifier write in the cluster waited for the previous writer's
/// commit to take that row's lock. The trigger adds 1 to the stripe the writing
/// transaction's id picks, so concurrent writes rarely share a stripe, and a transaction
/// that writes several times always uses the same stripe (no lock-order deadlocks).
/// The count carries over, so the epoch never goes back across the upgrade. SQLite keeps
/// its single row: it has one writer, which reads the epoch inside its own batches.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE TABLE data_epoch_stripes (stripe SMALLINT PRIMARY KEY, value BIGINT NOT NULL)",
        )
        .await?;
        db.execute_unprepared(&format!(
            "INSERT INTO data_epoch_stripes (stripe, value) \
             SELECT s, 0 FROM generate_series(0, {last}) AS s",
            last = STRIPES - 1
        ))
        .await?;
        db.execute_unprepared(
            "UPDATE data_epoch_stripes SET value = COALESCE((SELECT CAST(value AS BIGINT) \
             FROM server_meta WHERE name = 'data_epoch'), 0) WHERE stripe = 0",
        )
        .await?;
        db.execute_unprepared(&format!(
            "CREATE OR REPLACE FUNCTION notifier_bump_data_epoch() RETURNS trigger AS $$ \
             BEGIN UPDATE data_epoch_stripes SET value = value + 1 \
             WHERE stripe = txid_current() % {STRIPES}; RETURN NULL; END; $$ LANGUAGE plpgsql"
        ))
        .await?;
        db.execute_unprepared("DELETE FROM server_meta WHERE name = 'data_epoch'")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO server_meta (name, value) SELECT 'data_epoch', \
             CAST(COALESCE(SUM(value), 0) AS TEXT) FROM data_epoch_stripes",
        )
        .await?;
        db.execute_unprepared(
            "CREATE OR REPLACE FUNCTION notifier_bump_data_epoch() RETURNS trigger AS $$ \
             BEGIN UPDATE server_meta SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) \
             WHERE name = 'data_epoch'; RETURN NULL; END; $$ LANGUAGE plpgsql",
        )
        .await?;
        db.execute_unprepared("DROP TABLE data_epoch_stripes")
            .await?;
        Ok(())
    }
}
