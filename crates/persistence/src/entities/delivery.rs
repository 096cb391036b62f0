use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub notifier_id: Option<i32>,
    pub notifier_name: String,
    pub status: String,
    pub recipients: String,
    pub subject: String,
    pub message_id: String,
    pub payload_sealed: Option<String>,
    pub attempts: i32,
    pub round_attempts: i32,
    pub due_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub last_reply_code: Option<i32>,
    pub requested_by: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
