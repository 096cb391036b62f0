use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PermissionGrants {
    Table,
    Id,
    UserId,
    Code,
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
                    .table(PermissionGrants::Table)
                    .if_not_exists()
                    .col(pk_auto(PermissionGrants::Id))
                    .col(integer(PermissionGrants::UserId))
                    .col(integer(PermissionGrants::Code))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_permission_grants_user")
                            .from(PermissionGrants::Table, PermissionGrants::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // One grant per (user, code): granting twice is a no-op, not a duplicate row.
        manager
            .create_index(
                Index::create()
                    .name("ux_permission_grants_user_code")
                    .table(PermissionGrants::Table)
                    .col(PermissionGrants::UserId)
                    .col(PermissionGrants::Code)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PermissionGrants::Table).to_owned())
            .await
    }
}
