use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A counter in `server_meta` that the database itself moves on every insert, update or
/// delete of a notifier, from any instance or tool. Servers cache reads keyed by it, so a
/// change is seen on the next request everywhere, without an extra write from the app.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO server_meta (name, value) VALUES ('data_epoch', '0') ON CONFLICT (name) DO NOTHING",
        )
        .await?;
        let bump = "UPDATE server_meta SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) WHERE name = 'data_epoch'";
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(&format!(
                    "CREATE OR REPLACE FUNCTION notifier_bump_data_epoch() RETURNS trigger AS $$ \
                     BEGIN {bump}; RETURN NULL; END; $$ LANGUAGE plpgsql"
                ))
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER email_notifiers_changed AFTER INSERT OR UPDATE OR DELETE \
                     ON email_notifiers FOR EACH STATEMENT EXECUTE FUNCTION notifier_bump_data_epoch()",
                )
                .await?;
            }
            _ => {
                for event in ["INSERT", "UPDATE", "DELETE"] {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER IF NOT EXISTS email_notifiers_{} AFTER {event} ON email_notifiers \
                         BEGIN {bump}; END",
                        event.to_lowercase()
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(
                    "DROP TRIGGER IF EXISTS email_notifiers_changed ON email_notifiers",
                )
                .await?;
                db.execute_unprepared("DROP FUNCTION IF EXISTS notifier_bump_data_epoch()")
                    .await?;
            }
            _ => {
                for event in ["insert", "update", "delete"] {
                    db.execute_unprepared(&format!(
                        "DROP TRIGGER IF EXISTS email_notifiers_{event}"
                    ))
                    .await?;
                }
            }
        }
        db.execute_unprepared("DELETE FROM server_meta WHERE name = 'data_epoch'")
            .await?;
        Ok(())
    }
}
