//! The outbox (docs/API.md §9): one row per message accepted by `/send`, written before any
//! SMTP traffic.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Deliveries {
    Table,
    Id,
    NotifierId,
    NotifierName,
    Status,
    Recipients,
    Subject,
    MessageId,
    PayloadSealed,
    Attempts,
    RoundAttempts,
    DueAt,
    LastError,
    LastReplyCode,
    RequestedBy,
    CreatedAt,
    UpdatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum EmailNotifiers {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Deliveries::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Deliveries::Id))
                    // Null once the notifier is deleted; the delivery stays in the log.
                    .col(integer_null(Deliveries::NotifierId))
                    .col(string_len(Deliveries::NotifierName, 255))
                    .col(string_len(Deliveries::Status, 16))
                    // {"to": [...], "cc": [...], "bcc": [...]} as JSON text.
                    .col(text(Deliveries::Recipients))
                    .col(text(Deliveries::Subject))
                    .col(string_len(Deliveries::MessageId, 255))
                    // Body, HTML body and Reply-To, sealed like passwords; erased (null)
                    // once the delivery is sent or cancelled.
                    .col(text_null(Deliveries::PayloadSealed))
                    .col(integer(Deliveries::Attempts))
                    // Attempts since the last manual retry: what `max_attempts` bounds.
                    .col(integer(Deliveries::RoundAttempts))
                    // Waiting: when the next attempt is due. Sending: when its lease ends
                    // (a delivery left by a dead process is due again then). Else null.
                    .col(timestamp_with_time_zone_null(Deliveries::DueAt))
                    .col(text_null(Deliveries::LastError))
                    .col(integer_null(Deliveries::LastReplyCode))
                    .col(string_len(Deliveries::RequestedBy, 150))
                    .col(timestamp_with_time_zone(Deliveries::CreatedAt))
                    .col(timestamp_with_time_zone(Deliveries::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Deliveries::SentAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_deliveries_notifier")
                            .from(Deliveries::Table, Deliveries::NotifierId)
                            .to(EmailNotifiers::Table, EmailNotifiers::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        // "Due now" for the workers' claim; the list's filters, each with its order; and
        // the notifier key, which a notifier's delete sets to null.
        let indexes: [(&str, &[Deliveries]); 5] = [
            ("ix_deliveries_due_at", &[Deliveries::DueAt]),
            ("ix_deliveries_created_at", &[Deliveries::CreatedAt]),
            (
                "ix_deliveries_notifier_created_at",
                &[Deliveries::NotifierId, Deliveries::CreatedAt],
            ),
            (
                "ix_deliveries_status_created_at",
                &[Deliveries::Status, Deliveries::CreatedAt],
            ),
            ("ix_deliveries_updated_at", &[Deliveries::UpdatedAt]),
        ];
        for (name, columns) in indexes {
            let mut index = Index::create();
            index.name(name).table(Deliveries::Table).if_not_exists();
            for column in columns {
                index.col(*column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Deliveries::Table).to_owned())
            .await
    }
}
