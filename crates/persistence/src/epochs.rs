//! Markers that change whenever what a cache holds may have changed: the auth epoch moves
//! with any user, grant or token change (advanced here by the commands that make them), the
//! data epoch with any notifier write (advanced by a database trigger). Servers cache token
//! lookups and notifier reads under them and still see every change on the next request.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::Result;
use crate::entities::server_meta;

const AUTH_EPOCH: &str = "auth_epoch";
const DATA_EPOCH: &str = "data_epoch";

/// Both markers, read together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Epochs {
    /// Users, grants, tokens; empty before the first change.
    pub auth: String,
    /// Notifiers: how many notifier rows have been written, counted by the database.
    pub data: i64,
}

/// The current markers, in one query.
pub async fn current(db: &impl ConnectionTrait) -> Result<Epochs> {
    let rows = server_meta::Entity::find()
        .filter(server_meta::Column::Name.is_in([AUTH_EPOCH, DATA_EPOCH]))
        .all(db)
        .await?;
    let mut epochs = Epochs::default();
    for row in rows {
        match row.name.as_str() {
            AUTH_EPOCH => epochs.auth = row.value,
            _ => epochs.data = parse_data_epoch(&row.value)?,
        }
    }
    Ok(epochs)
}

/// The data epoch alone.
pub async fn data(db: &impl ConnectionTrait) -> Result<i64> {
    let row = server_meta::Entity::find_by_id(DATA_EPOCH).one(db).await?;
    parse_data_epoch(row.map(|row| row.value).as_deref().unwrap_or_default())
}

fn parse_data_epoch(value: &str) -> Result<i64> {
    value.parse().map_err(|_| {
        crate::Error::Unavailable(sea_orm::DbErr::Custom(format!(
            "the data epoch is not a number: {value:?}"
        )))
    })
}

/// Moves the marker on: every cached principal becomes stale on every instance.
pub(crate) async fn advance(db: &impl ConnectionTrait) -> Result<()> {
    let row = server_meta::ActiveModel {
        name: Set(AUTH_EPOCH.to_owned()),
        value: Set(crate::keys::generate_key()),
    };
    server_meta::Entity::insert(row)
        .on_conflict(
            OnConflict::column(server_meta::Column::Name)
                .update_column(server_meta::Column::Value)
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}
