use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The `Idempotency-Key` of each user's recent POSTs and the first answer to each.
#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    UserId,
    Key,
    Fingerprint,
    Claim,
    ClaimedAt,
    Response,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .if_not_exists()
                    .col(integer(IdempotencyKeys::UserId))
                    .col(string_len(IdempotencyKeys::Key, 255))
                    // Hex SHA-256 of method, path and body.
                    .col(char_len(IdempotencyKeys::Fingerprint, 64))
                    // A random token of the request that holds the key: only it may store
                    // the answer, and a retake swaps it atomically.
                    .col(char_len(IdempotencyKeys::Claim, 32))
                    .col(timestamp_with_time_zone(IdempotencyKeys::ClaimedAt))
                    // The answer sealed with the secret key; NULL while the request runs.
                    .col(text_null(IdempotencyKeys::Response))
                    // One row per user and key: the claim is an insert that only one
                    // request, on any instance, can win.
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::UserId)
                            .col(IdempotencyKeys::Key),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_idempotency_keys_user")
                            .from(IdempotencyKeys::Table, IdempotencyKeys::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Pruning deletes by age.
        manager
            .create_index(
                Index::create()
                    .name("ix_idempotency_keys_claimed_at")
                    .table(IdempotencyKeys::Table)
                    .col(IdempotencyKeys::ClaimedAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IdempotencyKeys::Table).to_owned())
            .await
    }
}
