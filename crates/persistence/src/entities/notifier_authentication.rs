use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifier_authentication")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub notifier_id: i32,
    pub method: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub xoauth2: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub client_secret_sealed: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub refresh_token_sealed: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
