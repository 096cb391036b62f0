//! The email notifier repository.

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use notifier_domain::{
    Direction, ListQuery, NewNotifier, Notifier, NotifierChanges, OrderField, Password, name_key,
};
use sea_orm::sea_query::{Expr, ExprTrait as _, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::entities::email_notifier::{self, ActiveModel, Column, Entity, Model};
use crate::error::is_unique_violation;
use crate::{Error, Result, SecretBox};

/// One page of a list, with what pagination links need.
#[derive(Debug)]
pub struct Page {
    pub count: u64,
    pub number: u64,
    pub num_pages: u64,
    pub items: Vec<Notifier>,
}

pub async fn create(
    db: &impl ConnectionTrait,
    secrets: &SecretBox,
    new: NewNotifier,
) -> Result<Notifier> {
    let now = now();
    let row = ActiveModel {
        name_key: Set(name_key(&new.name)),
        name: Set(new.name),
        host: Set(new.host),
        port: Set(i32::from(new.port)),
        username: Set(new.username),
        password_sealed: Set(secrets.seal(new.password.expose())),
        from_email: Set(new.from_email),
        use_tls: Set(new.use_tls),
        use_ssl: Set(new.use_ssl),
        fail_silently: Set(new.fail_silently),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let model = row.insert(db).await.map_err(name_conflict)?;
    to_domain(model, secrets)
}

pub async fn get(db: &impl ConnectionTrait, secrets: &SecretBox, id: i64) -> Result<Notifier> {
    let id = i32::try_from(id).map_err(|_| Error::NotFound)?;
    let model = Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound)?;
    to_domain(model, secrets)
}

/// Applies a PATCH or PUT to a notifier the caller has just read with [`get`];
/// `updated_at` always moves forward.
pub async fn update(
    db: &impl ConnectionTrait,
    secrets: &SecretBox,
    mut notifier: Notifier,
    changes: NotifierChanges,
) -> Result<Notifier> {
    let previous_update = notifier.updated_at;
    changes.apply_to(&mut notifier);
    notifier.updated_at = Ord::max(now(), previous_update + TimeDelta::microseconds(1));
    let row = ActiveModel {
        id: Set(i32::try_from(notifier.id).map_err(|_| Error::NotFound)?),
        name_key: Set(name_key(&notifier.name)),
        name: Set(notifier.name.clone()),
        host: Set(notifier.host.clone()),
        port: Set(i32::from(notifier.port)),
        username: Set(notifier.username.clone()),
        password_sealed: Set(secrets.seal(notifier.password.expose())),
        from_email: Set(notifier.from_email.clone()),
        use_tls: Set(notifier.use_tls),
        use_ssl: Set(notifier.use_ssl),
        fail_silently: Set(notifier.fail_silently),
        updated_at: Set(notifier.updated_at),
        ..Default::default()
    };
    match row.update(db).await {
        Ok(_) => Ok(notifier),
        // Deleted between our read and write.
        Err(sea_orm::DbErr::RecordNotUpdated) => Err(Error::NotFound),
        Err(e) => Err(name_conflict(e)),
    }
}

pub async fn delete(db: &impl ConnectionTrait, id: i64) -> Result<()> {
    let id = i32::try_from(id).map_err(|_| Error::NotFound)?;
    let result = Entity::delete_by_id(id).exec(db).await?;
    if result.rows_affected == 0 {
        Err(Error::NotFound)
    } else {
        Ok(())
    }
}

/// A friendlier pre-check for error reports; the unique index still decides races.
pub async fn name_taken(
    db: &impl ConnectionTrait,
    name: &str,
    except_id: Option<i64>,
) -> Result<bool> {
    let mut query = Entity::find().filter(Column::NameKey.eq(name_key(name)));
    if let Some(id) = except_id {
        query = query.filter(Column::Id.ne(id));
    }
    Ok(query.count(db).await? > 0)
}

pub async fn count(db: &impl ConnectionTrait) -> Result<u64> {
    Ok(Entity::find().count(db).await?)
}

/// One page of notifiers; a page past the end is [`Error::InvalidPage`].
pub async fn list(
    db: &impl ConnectionTrait,
    secrets: &SecretBox,
    query: &ListQuery,
) -> Result<Page> {
    let filtered = Entity::find().filter(conditions(query));
    let count = filtered.clone().count(db).await?;
    let num_pages = Ord::max(count.div_ceil(query.page_size), 1);
    let number = query.page.unwrap_or(num_pages);
    if number > num_pages {
        return Err(Error::InvalidPage);
    }
    let mut ordered = filtered;
    for (field, direction) in &query.ordering {
        let column = match field {
            OrderField::Id => Column::Id,
            OrderField::Name => Column::Name,
            OrderField::CreatedAt => Column::CreatedAt,
            OrderField::UpdatedAt => Column::UpdatedAt,
        };
        ordered = match direction {
            Direction::Ascending => ordered.order_by_asc(column),
            Direction::Descending => ordered.order_by_desc(column),
        };
    }
    // A stable order across pages even when the requested field has ties.
    if !query
        .ordering
        .iter()
        .any(|(field, _)| *field == OrderField::Id)
    {
        ordered = ordered.order_by_asc(Column::Id);
    }
    let models = ordered
        .offset((number - 1) * query.page_size)
        .limit(query.page_size)
        .all(db)
        .await?;
    let items = models
        .into_iter()
        .map(|m| to_domain(m, secrets))
        .collect::<Result<_>>()?;
    Ok(Page {
        count,
        number,
        num_pages,
        items,
    })
}

fn conditions(query: &ListQuery) -> Condition {
    let mut all = Condition::all();
    if let Some(host) = &query.host {
        all = all.add(Column::Host.eq(host.as_str()));
    }
    for (column, wanted) in [
        (Column::UseTls, query.use_tls),
        (Column::UseSsl, query.use_ssl),
        (Column::FailSilently, query.fail_silently),
    ] {
        if let Some(wanted) = wanted {
            all = all.add(column.eq(wanted));
        }
    }
    // SearchFilter: every term must match at least one of the searched columns.
    for term in &query.search_terms {
        let pattern = format!("%{}%", escape_like(&term.to_lowercase()));
        let mut any = Condition::any();
        for column in [
            Column::Name,
            Column::Host,
            Column::Username,
            Column::FromEmail,
        ] {
            any = any.add(lower(column).like(LikeExpr::new(pattern.clone()).escape('\\')));
        }
        all = all.add(any);
    }
    all
}

fn lower(column: Column) -> Expr {
    Func::lower(Expr::col((email_notifier::Entity, column))).into()
}

fn escape_like(term: &str) -> String {
    term.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

fn name_conflict(err: sea_orm::DbErr) -> Error {
    if is_unique_violation(&err) {
        Error::NameTaken
    } else {
        err.into()
    }
}

/// Microsecond precision: what PostgreSQL keeps and what responses show.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn to_domain(model: Model, secrets: &SecretBox) -> Result<Notifier> {
    let password = secrets
        .open(&model.password_sealed)
        .ok_or(Error::Undecryptable)?;
    Ok(Notifier {
        id: i64::from(model.id),
        name: model.name,
        host: model.host,
        port: u16::try_from(model.port).unwrap_or_default(),
        username: model.username,
        password: Password::new(password),
        from_email: model.from_email,
        use_tls: model.use_tls,
        use_ssl: model.use_ssl,
        fail_silently: model.fail_silently,
        created_at: model.created_at,
        updated_at: model.updated_at,
    })
}
