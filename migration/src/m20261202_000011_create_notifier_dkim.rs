use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A notifier's DKIM settings: at most one row per notifier, gone with it.
#[derive(DeriveIden)]
enum NotifierDkim {
    Table,
    NotifierId,
    Domain,
    Selector,
    Algorithm,
    PrivateKeySealed,
    PublicKey,
    CreatedAt,
    UpdatedAt,
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
                    .table(NotifierDkim::Table)
                    .if_not_exists()
                    .col(integer(NotifierDkim::NotifierId).primary_key())
                    .col(string_len(NotifierDkim::Domain, 253))
                    .col(string_len(NotifierDkim::Selector, 63))
                    // `rsa-sha256` or `ed25519-sha256`.
                    .col(string_len(NotifierDkim::Algorithm, 32))
                    // The PKCS#8 PEM private key, sealed with the secret key like passwords.
                    .col(text(NotifierDkim::PrivateKeySealed))
                    // The DNS record's `p=` value (base64), public.
                    .col(text(NotifierDkim::PublicKey))
                    .col(timestamp_with_time_zone(NotifierDkim::CreatedAt))
                    .col(timestamp_with_time_zone(NotifierDkim::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notifier_dkim_notifier")
                            .from(NotifierDkim::Table, NotifierDkim::NotifierId)
                            .to(EmailNotifiers::Table, EmailNotifiers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(NotifierDkim::Table).to_owned())
            .await
    }
}
