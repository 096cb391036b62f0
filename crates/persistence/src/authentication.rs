//! How each notifier logs in (`notifier_authentication`, one row per notifier at most).
//!
//! A notifier without a row uses [`Authentication::Password`]. The table is not a
//! notifier table: no trigger moves the data epoch for it and the notifier's row, its
//! `updated_at` included, is never written here. Rows go with their notifier
//! (`ON DELETE CASCADE`). Written directly on the connection given, as users and tokens
//! are: a PUT here is rare, and nothing cached depends on it.

use chrono::{SubsecRound, Utc};
use notifier_domain::Authentication;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, SqlErr};

use crate::entities::email_notifier;
use crate::entities::notifier_authentication::{ActiveModel, Column, Entity};
use crate::{Error, Result};

/// The notifier's method; [`Error::NotFound`] when no such notifier exists.
pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Authentication> {
    let id = i32::try_from(id).map_err(|_| Error::NotFound)?;
    if let Some(row) = Entity::find_by_id(id).one(db).await? {
        return method(&row.method);
    }
    // No row: the default, if the notifier exists.
    email_notifier::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|_| Authentication::default())
        .ok_or(Error::NotFound)
}

/// The method to send with, for a notifier the caller has just read: one primary-key
/// lookup, no check that the notifier still exists (the send finds out).
pub async fn for_sending(db: &impl ConnectionTrait, id: i64) -> Result<Authentication> {
    let Ok(id) = i32::try_from(id) else {
        return Ok(Authentication::default());
    };
    match Entity::find_by_id(id).one(db).await? {
        Some(row) => method(&row.method),
        None => Ok(Authentication::default()),
    }
}

/// Sets the notifier's method (an upsert); [`Error::NotFound`] when no such notifier
/// exists (the foreign key decides, so a concurrent delete is one too).
pub async fn put(db: &impl ConnectionTrait, id: i64, auth: Authentication) -> Result<()> {
    let id = i32::try_from(id).map_err(|_| Error::NotFound)?;
    let row = ActiveModel {
        notifier_id: Set(id),
        method: Set(auth.method().to_owned()),
        updated_at: Set(Utc::now().trunc_subsecs(6)),
    };
    let upsert = Entity::insert(row).on_conflict(
        OnConflict::column(Column::NotifierId)
            .update_columns([Column::Method, Column::UpdatedAt])
            .to_owned(),
    );
    match upsert.exec_without_returning(db).await {
        Ok(_) => Ok(()),
        Err(e) if is_foreign_key_violation(&e) => Err(Error::NotFound),
        Err(e) => Err(e.into()),
    }
}

fn method(stored: &str) -> Result<Authentication> {
    Authentication::from_method(stored).ok_or_else(|| {
        Error::Database(DbErr::Custom(format!(
            "unknown authentication method {stored:?} in notifier_authentication"
        )))
    })
}

fn is_foreign_key_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(SqlErr::ForeignKeyConstraintViolation(_))
    )
}
