//! Users and their permission grants, as the CLI manages them.

use std::collections::HashMap;

use chrono::{SubsecRound, Utc};
use notifier_domain::{Permission, User};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbBackend,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
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

/// Marks the user inactive; authentication then refuses all of its tokens. The last active
/// admin is refused: one conditional statement decides. On PostgreSQL the active admins'
/// rows are locked first, so that two admins deactivated at once, each in a transaction,
/// cannot each count the other (SQLite runs one write at a time); run it in one.
pub async fn deactivate(db: &impl ConnectionTrait, username: &str) -> Result<()> {
    let target = find(db, username).await?;
    let id = db_id(target.id)?;
    if db.get_database_backend() == DbBackend::Postgres {
        user::Entity::find()
            .filter(user::Column::IsAdmin.eq(true))
            .filter(user::Column::IsActive.eq(true))
            .lock_exclusive()
            .all(db)
            .await?;
    }
    let another_admin = Query::select()
        .expr(Expr::val(1))
        .from_as(user::Entity, Alias::new("other"))
        .and_where(Expr::col((Alias::new("other"), user::Column::IsAdmin)).eq(true))
        .and_where(Expr::col((Alias::new("other"), user::Column::IsActive)).eq(true))
        .and_where(Expr::col((Alias::new("other"), user::Column::Id)).ne(id))
        .to_owned();
    let result = user::Entity::update_many()
        .col_expr(user::Column::IsActive, Expr::value(false))
        .filter(user::Column::Id.eq(id))
        .filter(
            Condition::any()
                .add(user::Column::IsAdmin.eq(false))
                .add(user::Column::IsActive.eq(false))
                .add(Expr::exists(another_admin)),
        )
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(Error::LastActiveAdmin(target.username));
    }
    crate::epochs::advance(db).await
}

/// Marks the user active again; its tokens work again (those not revoked or expired).
pub async fn activate(db: &impl ConnectionTrait, username: &str) -> Result<()> {
    let user = find(db, username).await?;
    let row = user::ActiveModel {
        id: Set(db_id(user.id)?),
        is_active: Set(true),
        ..Default::default()
    };
    row.update(db).await?;
    crate::epochs::advance(db).await
}

/// Every user with the codes granted to it, by name.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<(User, Vec<Permission>)>> {
    let users = user::Entity::find()
        .order_by_asc(user::Column::Username)
        .all(db)
        .await?;
    let mut codes: HashMap<i32, Vec<Permission>> = HashMap::new();
    let grants = permission_grant::Entity::find()
        .order_by_asc(permission_grant::Column::Code)
        .all(db)
        .await?;
    for grant in grants {
        if let Some(code) = Permission::from_code(i64::from(grant.code)) {
            codes.entry(grant.user_id).or_default().push(code);
        }
    }
    Ok(users
        .into_iter()
        .map(|u| {
            let granted = codes.remove(&u.id).unwrap_or_default();
            (to_domain(u), granted)
        })
        .collect())
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
