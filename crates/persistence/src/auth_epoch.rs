//! A marker that changes whenever any user, grant or token changes, so that servers can
//! cache token lookups and still see every revocation on their next request.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

use crate::Result;
use crate::entities::server_meta;

const AUTH_EPOCH: &str = "auth_epoch";

/// The current marker; empty before the first change.
pub async fn current(db: &impl ConnectionTrait) -> Result<String> {
    let row = server_meta::Entity::find_by_id(AUTH_EPOCH).one(db).await?;
    Ok(row.map(|r| r.value).unwrap_or_default())
}

/// Moves the marker on: every cached principal becomes stale on every instance.
pub(crate) async fn advance(db: &impl ConnectionTrait) -> Result<()> {
    let row = server_meta::ActiveModel {
        name: Set(AUTH_EPOCH.to_owned()),
        value: Set(crate::tokens::generate_key()),
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
