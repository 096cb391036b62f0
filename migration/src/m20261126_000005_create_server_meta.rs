use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Small facts about the installation, such as the sealed value that proves the secret key.
#[derive(DeriveIden)]
enum ServerMeta {
    Table,
    Name,
    Value,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ServerMeta::Table)
                    .if_not_exists()
                    .col(string_len(ServerMeta::Name, 64).primary_key())
                    .col(text(ServerMeta::Value))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ServerMeta::Table).to_owned())
            .await
    }
}
