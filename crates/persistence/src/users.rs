//! Users and their permission grants, as the CLI manages them.

use chrono::{SubsecRound, Utc};
use notifier_domain::{Permission, User};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};

use crate::entities::{permission_grant, user};
use crate::error::is_unique_violation;
use crate::{Error, Result};

pub async fn create(
    db: &impl ConnectionTrait,
    username: &str,
    is_staff: bool,
    is_admin: bool,
) -> Result<User> {
    let row = user::ActiveModel {
        username: Set(username.to_owned()),
        is_active: Set(true),
        is_staff: Set(is_staff),
        is_admin: Set(is_admin),
        created_at: Set(Utc::now().trunc_subsecs(6)),
        ..Default::default()
    };
    match row.insert(db).await {
        Ok(model) => Ok(to_domain(model)),
        Err(e) if is_unique_violation(&e) => Err(Error::UserExists(username.to_owned())),
        Err(e) => Err(e.into()),
    }
}

pub async fn find(db: &impl ConnectionTrait, username: &str) -> Result<User> {
    user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(db)
        .await?
        .map(to_domain)
        .ok_or_else(|| Error::NoSuchUser(username.to_owned()))
}

pub async fn count(db: &impl ConnectionTrait) -> Result<u64> {
    Ok(user::Entity::find().count(db).await?)
}

/// Grants codes; granting one already held changes nothing.
pub async fn grant(db: &impl ConnectionTrait, username: &str, codes: &[Permission]) -> Result<()> {
    let user = find(db, username).await?;
    let held = granted(db, user.id).await?;
    for code in codes.iter().filter(|c| !held.contains(c)) {
        let row = permission_grant::ActiveModel {
            user_id: Set(db_id(user.id)?),
            code: Set(i32::from(code.code())),
            ..Default::default()
        };
        match row.insert(db).await {
            // A concurrent grant of the same code got there first: the outcome is the same.
            Err(e) if !is_unique_violation(&e) => return Err(e.into()),
            _ => {}
        }
    }
    crate::epochs::advance(db).await
}

pub async fn revoke(db: &impl ConnectionTrait, username: &str, codes: &[Permission]) -> Result<()> {
    let user = find(db, username).await?;
    let codes: Vec<i32> = codes.iter().map(|c| i32::from(c.code())).collect();
    permission_grant::Entity::delete_many()
        .filter(permission_grant::Column::UserId.eq(db_id(user.id)?))
        .filter(permission_grant::Column::Code.is_in(codes))
        .exec(db)
        .await?;
    crate::epochs::advance(db).await
}

/// Marks the user inactive; authentication then refuses all of its tokens.
pub async fn deactivate(db: &impl ConnectionTrait, username: &str) -> Result<()> {
    let user = find(db, username).await?;
    let row = user::ActiveModel {
        id: Set(db_id(user.id)?),
        is_active: Set(false),
        ..Default::default()
    };
    row.update(db).await?;
    crate::epochs::advance(db).await
}

/// The codes granted to a user, ascending.
pub async fn granted(db: &impl ConnectionTrait, user_id: i64) -> Result<Vec<Permission>> {
    let rows = permission_grant::Entity::find()
        .filter(permission_grant::Column::UserId.eq(db_id(user_id)?))
        .order_by_asc(permission_grant::Column::Code)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| Permission::from_code(i64::from(r.code)))
        .collect())
}

pub(crate) fn db_id(id: i64) -> Result<i32> {
    i32::try_from(id).map_err(|_| Error::NotFound)
}

pub(crate) fn to_domain(model: user::Model) -> User {
    User {
        id: i64::from(model.id),
        username: model.username,
        is_active: model.is_active,
        is_staff: model.is_staff,
        is_admin: model.is_admin,
    }
}
