use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifier_dkim")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub notifier_id: i32,
    pub domain: String,
    pub selector: String,
    pub algorithm: String,
    #[sea_orm(column_type = "Text")]
    pub private_key_sealed: String,
    #[sea_orm(column_type = "Text")]
    pub public_key: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
