use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// How each notifier logs in to its server (its `/authentication` sub-resource). A notifier
/// without a row uses its username and password, as before this table existed. A table of
/// its own, not columns of `email_notifiers`: a change here moves neither the notifier's
/// `updated_at` nor the data epoch, so cached notifier bodies stay as they are.
#[derive(DeriveIden)]
enum NotifierAuthentication {
    Table,
    NotifierId,
    Method,
    Xoauth2,
    ClientSecretSealed,
    RefreshTokenSealed,
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
                    .table(NotifierAuthentication::Table)
                    .if_not_exists()
                    .col(integer(NotifierAuthentication::NotifierId).primary_key())
                    // `password`, `none` or `xoauth2`.
                    .col(string_len(NotifierAuthentication::Method, 16))
                    // xoauth2: the settings that are not secret, as JSON (grant,
                    // token_url, client_id, scope, provider, tenant).
                    .col(text_null(NotifierAuthentication::Xoauth2))
                    // xoauth2: the secrets, sealed with the secret key as passwords are.
                    .col(text_null(NotifierAuthentication::ClientSecretSealed))
                    .col(text_null(NotifierAuthentication::RefreshTokenSealed))
                    .col(timestamp_with_time_zone(NotifierAuthentication::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notifier_authentication_notifier")
                            .from(
                                NotifierAuthentication::Table,
                                NotifierAuthentication::NotifierId,
                            )
                            .to(EmailNotifiers::Table, EmailNotifiers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(NotifierAuthentication::Table)
                    .to_owned(),
            )
            .await
    }
}
