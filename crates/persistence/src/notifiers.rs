//! The email notifier repository.

use chrono::{DateTime, SubsecRound, Utc};
use futures_util::TryStreamExt;
use notifier_domain::{
    AuditAction, AuditContext, AuditEntry, Direction, ListQuery, NewNotifier, Notifier,
    NotifierChanges, OrderField, Password, name_key, notifier_audit,
};
use sea_orm::sea_query::{Expr, ExprTrait as _, Func, LikeExpr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait,
    FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};

use crate::audit::{self, Refers};
use crate::entities::email_notifier::{self, ActiveModel, Column, Entity, Model};
use crate::error::is_unique_violation;
use crate::or_ignore::or_ignore;
use crate::writer::WriteError;
use crate::{Error, Result, SecretBox, WriteEpoch, Writer};

/// Stores a new notifier and its audit record; a taken name (the unique index decides) is
/// [`Error::NameTaken`], and records nothing.
pub async fn create(
    writer: &Writer,
    secrets: &SecretBox,
    new: NewNotifier,
    audit: &AuditContext,
) -> Result<(Notifier, WriteEpoch)> {
    let record = AuditEntry::new(AuditAction::Create, None, notifier_audit::created(&new));
    let record = audit::after(writer.backend(), audit, record, Some(Refers::NewNotifier))?;
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
    // A taken name inserts nothing instead of failing, so a batch of writes survives it.
    let mut insert = Entity::insert(row)
        .on_conflict(OnConflict::column(Column::NameKey).do_nothing().to_owned())
        .into_query();
    insert.returning_all();
    let written = writer
        .execute_then(writer.backend().build(&insert), record)
        .await
        .map_err(write_failed)?;
    let row = written.rows.first().ok_or(Error::NameTaken)?;
    Ok((
        to_domain(Model::from_query_result(row, "")?, secrets)?,
        written.epoch,
    ))
}

pub async fn get(db: &impl ConnectionTrait, secrets: &SecretBox, id: i64) -> Result<Notifier> {
    let id = i32::try_from(id).map_err(|_| Error::NotFound)?;
    let model = Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound)?;
    to_domain(model, secrets)
}

/// Notifiers are read ahead in blocks of this many ids.
pub const BLOCK: i64 = 256;

/// The notifiers whose ids share `id`'s block (`id` itself among them if it exists): one
/// range scan of the primary key.
pub async fn get_block(
    db: &impl ConnectionTrait,
    secrets: &SecretBox,
    id: i64,
) -> Result<Vec<Notifier>> {
    // No row has an id beyond the column's range (nor can a block start overflow there).
    let Ok(id) = i32::try_from(id) else {
        return Ok(Vec::new());
    };
    let first = i64::from(id) - i64::from(id).rem_euclid(BLOCK);
    let models = Entity::find()
        .filter(Column::Id.gte(first))
        .filter(Column::Id.lt(first + BLOCK))
        .all(db)
        .await?;
    models.into_iter().map(|m| to_domain(m, secrets)).collect()
}

/// Applies a PATCH or PUT in one statement with its audit record: only the fields given
/// change, `updated_at` never moves backwards, and the stored row comes back. The row is
/// read first: for what the record says changed, and because the changes may move the
/// stored password to another destination (§11). The write then applies only if the row
/// is still the one read, so the record's old values are exact. Writes racing on one
/// notifier make it miss; after [`EXACT_ROUNDS`] misses the write applies whatever else
/// changed meanwhile (still only to the destination checked), with the old values of the
/// last read: concurrent writes all succeed, as before there was a record to keep.
/// `known` (the caller's cached copy, password unknown) spares the read when the change
/// sets no password and the row is still as known.
pub async fn update(
    writer: &Writer,
    secrets: &SecretBox,
    id: i64,
    changes: NotifierChanges,
    audit: &AuditContext,
    known: Option<Notifier>,
) -> Result<(Notifier, WriteEpoch)> {
    let id = i32::try_from(id).map_err(|_| Error::NotFound)?;
    // First without reading, when the caller knows the row (its cached body) and the
    // change sets no password: the write is guarded on every audited column as known, so
    // the record's old values are exact when it applies. Any doubt falls through to the
    // read below.
    if let Some(known) = known.filter(|k| k.id == i64::from(id) && changes.password.is_none())
        && !(changes.may_move_password() && changes.moves_password_from(&known.destination()))
    {
        let record = update_record(writer, audit, &known, &changes)?;
        if let Updated::Row(notifier, epoch) =
            try_update(writer, secrets, as_known(&known), &changes, record).await?
        {
            return Ok((notifier, epoch));
        }
    }
    // A concurrent change between the read and the write makes the guarded write miss;
    // the read and the checks then run again on what is stored now.
    for round in 0..=EXACT_ROUNDS {
        let guard = if round < EXACT_ROUNDS {
            Guard::Row
        } else {
            Guard::Destination
        };
        // The stored password is opened only to tell whether a new one differs from it.
        let opened = changes.password.is_some().then_some(secrets);
        let (read, current) = read_for_write(writer, opened, id).await?;
        if changes.may_move_password() && changes.moves_password_from(&current.destination()) {
            return Err(Error::PasswordRequired);
        }
        let record = update_record(writer, audit, &current, &changes)?;
        let guarded = guard.filter(&read, &changes);
        match try_update(writer, secrets, guarded, &changes, record).await? {
            Updated::Row(notifier, epoch) => return Ok((notifier, epoch)),
            Updated::Nothing => {}
        }
        // Nothing updated: there is no such notifier, the name is taken (SQLite), or the
        // row changed since it was read.
        let Some(stored) = Entity::find_by_id(id).one(writer.db()).await? else {
            return Err(Error::NotFound);
        };
        let moved = destination_of(&stored) != destination_of(&read);
        match guard {
            Guard::Row if stored == read => return Err(Error::NameTaken),
            Guard::Row => {}
            Guard::Destination if moved && changes.may_move_password() => {
                return Err(Error::PasswordRequired);
            }
            Guard::Destination => return Err(Error::NameTaken),
        }
    }
    Err(Error::PasswordRequired)
}

/// The audit record of `changes` applied to `before`, as the statement that follows the write.
fn update_record(
    writer: &Writer,
    audit: &AuditContext,
    before: &Notifier,
    changes: &NotifierChanges,
) -> Result<sea_orm::Statement> {
    let record = AuditEntry::new(
        AuditAction::Update,
        Some(before.id),
        notifier_audit::updated(before, changes),
    );
    audit::after(writer.backend(), audit, record, None)
}

/// Rounds of read-then-write that must find the row as read, before one that only
/// needs the destination checked.
const EXACT_ROUNDS: usize = 3;

/// What a write requires of the row it was read as.
#[derive(Clone, Copy)]
enum Guard {
    /// Every column as read: the record's old values are exact.
    Row,
    /// The notifier, and its destination as checked when the password may move with it.
    Destination,
}

impl Guard {
    fn filter(self, read: &Model, changes: &NotifierChanges) -> Condition {
        match self {
            Guard::Row => unchanged_since(read),
            Guard::Destination if changes.may_move_password() => Condition::all()
                .add(Column::Id.eq(read.id))
                .add(Column::Host.eq(read.host.as_str()))
                .add(Column::Port.eq(read.port))
                .add(Column::UseTls.eq(read.use_tls))
                .add(Column::UseSsl.eq(read.use_ssl)),
            Guard::Destination => Condition::all().add(Column::Id.eq(read.id)),
        }
    }
}

/// A stored row's destination, without opening its password.
fn destination_of(model: &Model) -> (&str, i32, bool, bool) {
    (&model.host, model.port, model.use_tls, model.use_ssl)
}

/// The stored row (for the write's guard) and the notifier it holds (for its record).
/// The row as stored, and as a notifier whose password is opened only with `secrets`
/// (else empty: the audit record of a write that sets none never reads it, and opening
/// it costs a decryption on every PATCH).
async fn read_for_write(
    writer: &Writer,
    secrets: Option<&SecretBox>,
    id: i32,
) -> Result<(Model, Notifier)> {
    let read = Entity::find_by_id(id)
        .one(writer.db())
        .await?
        .ok_or(Error::NotFound)?;
    let notifier = match secrets {
        Some(secrets) => to_domain(read.clone(), secrets)?,
        None => with_password(read.clone(), String::new()),
    };
    Ok((read, notifier))
}

/// Only the row as `known` says, in every audited column (the password is not one).
fn as_known(known: &Notifier) -> Condition {
    Condition::all()
        .add(Column::Id.eq(i32::try_from(known.id).unwrap_or_default()))
        .add(Column::Name.eq(known.name.as_str()))
        .add(Column::Host.eq(known.host.as_str()))
        .add(Column::Port.eq(i32::from(known.port)))
        .add(Column::Username.eq(known.username.as_str()))
        .add(Column::FromEmail.eq(known.from_email.as_str()))
        .add(Column::UseTls.eq(known.use_tls))
        .add(Column::UseSsl.eq(known.use_ssl))
        .add(Column::FailSilently.eq(known.fail_silently))
}

/// Only the row exactly as it was read: every column a write could change.
fn unchanged_since(read: &Model) -> Condition {
    Condition::all()
        .add(Column::Id.eq(read.id))
        .add(Column::Name.eq(read.name.as_str()))
        .add(Column::Host.eq(read.host.as_str()))
        .add(Column::Port.eq(read.port))
        .add(Column::Username.eq(read.username.as_str()))
        .add(Column::PasswordSealed.eq(read.password_sealed.as_str()))
        .add(Column::FromEmail.eq(read.from_email.as_str()))
        .add(Column::UseTls.eq(read.use_tls))
        .add(Column::UseSsl.eq(read.use_ssl))
        .add(Column::FailSilently.eq(read.fail_silently))
}

enum Updated {
    Row(Notifier, WriteEpoch),
    Nothing,
}

async fn try_update(
    writer: &Writer,
    secrets: &SecretBox,
    guard: Condition,
    changes: &NotifierChanges,
    record: sea_orm::Statement,
) -> Result<Updated> {
    let update = Entity::update_many()
        .set(changed_columns(changes.clone(), secrets))
        .col_expr(
            Column::UpdatedAt,
            Func::greatest([Expr::val(now()), Expr::col(Column::UpdatedAt)]).into(),
        )
        .filter(guard);
    let mut update = update.into_query();
    update.returning_all();
    let mut statement = writer.backend().build(&update);
    if writer.backend() == DbBackend::Sqlite {
        // A taken name updates nothing instead of failing, so a batch of writes survives it.
        statement = or_ignore(statement).map_err(|e| DbErr::Custom(e.to_string()))?;
    }
    let written = writer
        .execute_then(statement, record)
        .await
        .map_err(write_failed)?;
    Ok(match written.rows.first() {
        Some(row) => Updated::Row(
            to_domain(Model::from_query_result(row, "")?, secrets)?,
            written.epoch,
        ),
        None => Updated::Nothing,
    })
}

fn changed_columns(changes: NotifierChanges, secrets: &SecretBox) -> ActiveModel {
    let mut row = ActiveModel::default();
    if let Some(name) = changes.name {
        row.name_key = Set(name_key(&name));
        row.name = Set(name);
    }
    if let Some(host) = changes.host {
        row.host = Set(host);
    }
    if let Some(port) = changes.port {
        row.port = Set(i32::from(port));
    }
    if let Some(username) = changes.username {
        row.username = Set(username);
    }
    if let Some(password) = changes.password {
        row.password_sealed = Set(secrets.seal(password.expose()));
    }
    if let Some(from_email) = changes.from_email {
        row.from_email = Set(from_email);
    }
    if let Some(use_tls) = changes.use_tls {
        row.use_tls = Set(use_tls);
    }
    if let Some(use_ssl) = changes.use_ssl {
        row.use_ssl = Set(use_ssl);
    }
    if let Some(fail_silently) = changes.fail_silently {
        row.fail_silently = Set(fail_silently);
    }
    row
}

/// Deletes the notifier with its audit record (which names every field it had). As for
/// updates, the row must be as read, unless writes keep racing with the delete.
pub async fn delete(writer: &Writer, id: i64, audit: &AuditContext) -> Result<WriteEpoch> {
    let id = i32::try_from(id).map_err(|_| Error::NotFound)?;
    for round in 0..=EXACT_ROUNDS {
        let (read, before) = read_for_write(writer, None, id).await?;
        let guard = if round < EXACT_ROUNDS {
            unchanged_since(&read)
        } else {
            Condition::all().add(Column::Id.eq(id))
        };
        let record = AuditEntry::new(
            AuditAction::Delete,
            Some(i64::from(id)),
            notifier_audit::deleted(&before),
        );
        let record = audit::after(writer.backend(), audit, record, None)?;
        let mut delete = Entity::delete_many().filter(guard).into_query();
        delete.returning_col(Column::Id);
        let written = writer
            .execute_then(writer.backend().build(&delete), record)
            .await
            .map_err(write_failed)?;
        if !written.rows.is_empty() {
            return Ok(written.epoch);
        }
        // Gone (the next read says so), or changed since it was read.
    }
    Err(Error::NotFound)
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

/// The ids of every notifier the query selects, in its order (ties broken by id): what
/// its pages are cut from. One scan, however many pages are then read.
pub async fn matching_ids(
    db: &(impl ConnectionTrait + sea_orm::StreamTrait),
    query: &ListQuery,
) -> Result<Vec<i64>> {
    let mut ordered = Entity::find().filter(conditions(query));
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
    // Streamed: a driver row costs far more than the id kept from it.
    let rows = ordered
        .select_only()
        .column(Column::Id)
        .into_tuple::<i32>()
        .stream(db)
        .await?;
    let ids = rows
        .try_fold(Vec::new(), |mut ids, id| {
            ids.push(i64::from(id));
            futures_util::future::ready(Ok(ids))
        })
        .await?;
    Ok(ids)
}

/// The notifiers with these ids that exist, in no particular order.
pub async fn get_many(
    db: &impl ConnectionTrait,
    secrets: &SecretBox,
    ids: &[i64],
) -> Result<Vec<Notifier>> {
    let models = Entity::find()
        .filter(Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    models.into_iter().map(|m| to_domain(m, secrets)).collect()
}

fn conditions(query: &ListQuery) -> Condition {
    let mut all = Condition::all();
    if let Some(host) = &query.host {
        // No stored host holds a NUL, and PostgreSQL refuses one in a text value.
        if host.contains('\0') {
            all = all.add(Expr::val(false));
        } else {
            all = all.add(Column::Host.eq(host.as_str()));
        }
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

/// A failed write, a row refused by the unique name index reported as a taken name
/// (PostgreSQL; on SQLite the statements skip such a row instead of failing).
fn write_failed(err: WriteError) -> Error {
    match err {
        WriteError::Failed(e) if is_unique_violation(&e) => Error::NameTaken,
        other => other.into(),
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
    Ok(with_password(model, password))
}

fn with_password(model: Model, password: String) -> Notifier {
    Notifier {
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
    }
}

#[cfg(test)]
#[path = "notifiers/tests.rs"]
mod tests;
