use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// What `token list` shows and expiry needs: when a token stops working, when it was last
/// used (kept at most once a minute per instance) and the key's first 8 characters, so an
/// operator can tell tokens apart without the key. Tokens made before this step have no
/// prefix; none of the three has a value until it is set.
#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    ExpiresAt,
    LastUsedAt,
    KeyPrefix,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for column in [
            timestamp_with_time_zone_null(ApiTokens::ExpiresAt),
            timestamp_with_time_zone_null(ApiTokens::LastUsedAt),
            string_len_null(ApiTokens::KeyPrefix, 8),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ApiTokens::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ApiTokens::ExpiresAt,
            ApiTokens::LastUsedAt,
            ApiTokens::KeyPrefix,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ApiTokens::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
