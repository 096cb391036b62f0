//! Markers that change whenever what a cache holds may have changed: the auth epoch moves
//! with any user, grant or token change (advanced here by the commands that make them), the
//! data epoch with any notifier write (advanced by a database trigger). Servers cache token
//! lookups and notifier reads under them and still see every change on the next request.
//!
//! The data epoch is a row of `server_meta` on SQLite and, on PostgreSQL, the sum of the
//! striped counters in `data_epoch_stripes` (so concurrent writers do not queue on one row;
//! see migration 7).

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement,
};

use crate::Result;
use crate::entities::server_meta;

const AUTH_EPOCH: &str = "auth_epoch";
const DATA_EPOCH: &str = "data_epoch";
const SENDING_EPOCH: &str = "sending_epoch";

/// The markers, read together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Epochs {
    /// Users, grants, tokens; empty before the first change.
    pub auth: String,
    /// Notifiers: rises with every committed notifier write (SQLite: one per row written;
    /// PostgreSQL: one per writing statement), counted by the database.
    pub data: i64,
    /// How notifiers log in and sign (their authentication and DKIM settings); empty
    /// before the first change. Moved on by the store after each such write.
    pub sending: String,
}

/// Both markers on PostgreSQL, as rows of `server_meta`'s shape.
const POSTGRES_EPOCHS: &str = "SELECT name, value FROM server_meta \
     WHERE name IN ('auth_epoch', 'sending_epoch') \
     UNION ALL SELECT 'data_epoch', CAST(COALESCE(SUM(value), 0) AS TEXT) FROM data_epoch_stripes";

/// The current markers, in one query.
pub async fn current(db: &impl ConnectionTrait) -> Result<Epochs> {
    let rows = match db.get_database_backend() {
        DbBackend::Postgres => {
            let both = Statement::from_string(DbBackend::Postgres, POSTGRES_EPOCHS);
            server_meta::Entity::find()
                .from_raw_sql(both)
                .all(db)
                .await?
        }
        _ => {
            server_meta::Entity::find()
                .filter(server_meta::Column::Name.is_in([AUTH_EPOCH, DATA_EPOCH, SENDING_EPOCH]))
                .all(db)
                .await?
        }
    };
    let mut epochs = Epochs::default();
    for row in rows {
        match row.name.as_str() {
            AUTH_EPOCH => epochs.auth = row.value,
            SENDING_EPOCH => epochs.sending = row.value,
            _ => epochs.data = parse_data_epoch(&row.value)?,
        }
    }
    Ok(epochs)
}

/// The data epoch alone.
pub async fn data(db: &impl ConnectionTrait) -> Result<i64> {
    Ok(current(db).await?.data)
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
    advance_marker(db, AUTH_EPOCH).await
}

/// Moves the sending marker on: every instance reads notifiers' authentication and DKIM
/// settings afresh. Call after the write commits (a read in between would cache the old
/// settings under the new marker).
pub async fn advance_sending(db: &impl ConnectionTrait) -> Result<()> {
    advance_marker(db, SENDING_EPOCH).await
}

async fn advance_marker(db: &impl ConnectionTrait, name: &str) -> Result<()> {
    let row = server_meta::ActiveModel {
        name: Set(name.to_owned()),
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
