//! The DKIM settings repository: at most one row per notifier (`notifier_dkim`), the
//! private key sealed with the [`SecretBox`] like passwords.
//!
//! These rows are not notifier rows: writing them moves no data epoch and no notifier
//! `updated_at`, and they are written directly on the connection given (not through
//! the notifier [`crate::Writer`]). Deleting a notifier deletes its row (ON DELETE CASCADE).

use chrono::{SubsecRound, Utc};
use notifier_domain::{Dkim, DkimAlgorithm, Password};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, QuerySelect, SqlErr};

use crate::entities::notifier_dkim::{ActiveModel, Column, Entity, Model};
use crate::{Error, Result, SecretBox};

/// The notifier's DKIM settings, if it has any.
pub async fn get(
    db: &impl ConnectionTrait,
    secrets: &SecretBox,
    notifier_id: i64,
) -> Result<Option<Dkim>> {
    let Ok(id) = i32::try_from(notifier_id) else {
        return Ok(None);
    };
    match Entity::find_by_id(id).one(db).await? {
        Some(model) => Ok(Some(to_domain(model, secrets)?)),
        None => Ok(None),
    }
}

/// Only the signing domain, without opening the key: for the `from_email` rule.
pub async fn domain(db: &impl ConnectionTrait, notifier_id: i64) -> Result<Option<String>> {
    let Ok(id) = i32::try_from(notifier_id) else {
        return Ok(None);
    };
    Ok(Entity::find_by_id(id)
        .select_only()
        .column(Column::Domain)
        .into_tuple::<String>()
        .one(db)
        .await?)
}

/// Sets (creates or replaces) the notifier's DKIM settings; [`Error::NotFound`] when the
/// notifier does not exist (any more).
pub async fn put(db: &impl ConnectionTrait, secrets: &SecretBox, dkim: &Dkim) -> Result<()> {
    let id = i32::try_from(dkim.notifier_id).map_err(|_| Error::NotFound)?;
    let now = Utc::now().trunc_subsecs(6);
    let row = ActiveModel {
        notifier_id: Set(id),
        domain: Set(dkim.domain.clone()),
        selector: Set(dkim.selector.clone()),
        algorithm: Set(dkim.algorithm.as_str().to_owned()),
        private_key_sealed: Set(secrets.seal(dkim.private_key.expose())),
        public_key: Set(dkim.public_key.clone()),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let upsert = Entity::insert(row).on_conflict(
        OnConflict::column(Column::NotifierId)
            .update_columns([
                Column::Domain,
                Column::Selector,
                Column::Algorithm,
                Column::PrivateKeySealed,
                Column::PublicKey,
                Column::UpdatedAt,
            ])
            .to_owned(),
    );
    match upsert.exec(db).await {
        Ok(_) => Ok(()),
        Err(e) if is_missing_notifier(&e) => Err(Error::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// Removes the notifier's DKIM settings; whether there were any.
pub async fn delete(db: &impl ConnectionTrait, notifier_id: i64) -> Result<bool> {
    let Ok(id) = i32::try_from(notifier_id) else {
        return Ok(false);
    };
    Ok(Entity::delete_by_id(id).exec(db).await?.rows_affected > 0)
}

fn is_missing_notifier(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(SqlErr::ForeignKeyConstraintViolation(_))
    )
}

fn to_domain(model: Model, secrets: &SecretBox) -> Result<Dkim> {
    let private_key = secrets
        .open(&model.private_key_sealed)
        .ok_or(Error::Undecryptable)?;
    let algorithm = DkimAlgorithm::parse(&model.algorithm).ok_or_else(|| {
        Error::Database(DbErr::Custom(format!(
            "unknown DKIM algorithm stored: {}",
            model.algorithm
        )))
    })?;
    Ok(Dkim {
        notifier_id: i64::from(model.notifier_id),
        domain: model.domain,
        selector: model.selector,
        algorithm,
        private_key: Password::new(private_key),
        public_key: model.public_key,
    })
}
