use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EmailNotifiers {
    Table,
    Id,
    Name,
    NameKey,
    Host,
    Port,
    Username,
    PasswordSealed,
    FromEmail,
    UseTls,
    UseSsl,
    FailSilently,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EmailNotifiers::Table)
                    .if_not_exists()
                    .col(pk_auto(EmailNotifiers::Id))
                    .col(string_len(EmailNotifiers::Name, 255))
                    // Lower-cased name: the database, not a pre-check, keeps names unique
                    // regardless of case, so concurrent creates cannot both win.
                    .col(string_len_uniq(EmailNotifiers::NameKey, 255))
                    .col(string_len(EmailNotifiers::Host, 255))
                    .col(integer(EmailNotifiers::Port))
                    .col(string_len(EmailNotifiers::Username, 255))
                    // Nonce + AES-256-GCM ciphertext, base64: the database never sees the password.
                    .col(text(EmailNotifiers::PasswordSealed))
                    .col(string_len(EmailNotifiers::FromEmail, 254))
                    .col(boolean(EmailNotifiers::UseTls))
                    .col(boolean(EmailNotifiers::UseSsl))
                    .col(boolean(EmailNotifiers::FailSilently))
                    .col(timestamp_with_time_zone(EmailNotifiers::CreatedAt))
                    .col(timestamp_with_time_zone(EmailNotifiers::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // The list's ordering columns, so a sorted page never scans the table.
        for (name, column) in [
            ("ix_email_notifiers_name", EmailNotifiers::Name),
            ("ix_email_notifiers_created_at", EmailNotifiers::CreatedAt),
            ("ix_email_notifiers_updated_at", EmailNotifiers::UpdatedAt),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(EmailNotifiers::Table)
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
            .drop_table(Table::drop().table(EmailNotifiers::Table).to_owned())
            .await
    }
}
