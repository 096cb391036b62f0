use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Who changed what, and when (§12): appended in the transaction of the change it records,
/// never updated.
#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    Actor,
    Action,
    NotifierId,
    Changes,
    RequestId,
    ClientIp,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .if_not_exists()
                    .col(big_pk_auto(AuditLog::Id))
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .col(string_len(AuditLog::Actor, 150))
                    .col(string_len(AuditLog::Action, 32))
                    // No foreign key: a record outlives its notifier and keeps its id.
                    .col(integer_null(AuditLog::NotifierId))
                    // JSON text: `{field: [old, new]}`, secrets only as "changed".
                    .col(text(AuditLog::Changes))
                    .col(string_len_null(AuditLog::RequestId, 64))
                    .col(string_len_null(AuditLog::ClientIp, 64))
                    .to_owned(),
            )
            .await?;
        // The list filters by notifier, actor and action, newest (highest id) first;
        // retention deletes by age.
        for (name, column) in [
            ("ix_audit_log_notifier_id", AuditLog::NotifierId),
            ("ix_audit_log_actor", AuditLog::Actor),
            ("ix_audit_log_action", AuditLog::Action),
            ("ix_audit_log_at", AuditLog::At),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AuditLog::Table)
                        .col(column)
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditLog::Table).to_owned())
            .await
    }
}
