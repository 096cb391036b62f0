//! The delivery repository (docs/API.md §9): the outbox's rows, their claims and outcomes.
//!
//! Every write goes through the [`Writer`] (on SQLite, the one writer connection and its
//! group commits; on PostgreSQL, autocommit statements on the pool), as one statement, so
//! each transition is atomic by itself:
//!
//! - a claim takes the delivery due first and leases it in one `UPDATE … WHERE id IN
//!   (SELECT … LIMIT 1)`; on PostgreSQL the subquery locks `FOR UPDATE SKIP LOCKED`, so
//!   concurrent claimers on any instance take different rows and never wait for each other;
//! - an outcome is recorded only while the claim is still the one made
//!   (`status = 'sending'` and the attempt count the claim set), so a worker whose lease ran
//!   out cannot overwrite what the worker that re-claimed the delivery recorded.
//!
//! Nothing here reads the clock: callers pass `now`, so tests can move time.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use notifier_domain::{
    AuditAction, AuditContext, AuditEntry, Changes, Delivery, DeliveryOrder, DeliveryQuery,
    DeliveryStatus, Direction,
};

use crate::audit::{self, Refers};
use crate::pages::{delete_selected, page_number};
use sea_orm::sea_query::{Expr, ExprTrait as _, LockBehavior, LockType, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use serde::{Deserialize, Serialize};

use crate::entities::delivery::{ActiveModel, Column, Entity, Model};
use crate::{Error, Result, SecretBox, Writer};

/// What is needed to record a message before any SMTP traffic.
pub struct NewDelivery {
    pub notifier_id: i64,
    pub notifier_name: String,
    pub recipients: Recipients,
    pub subject: String,
    pub message_id: String,
    pub content: Content,
    pub requested_by: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipients {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
}

/// The parts of a message kept sealed: never in a response, a log or the database's
/// plain text.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    pub body: String,
    pub html_body: Option<String>,
    pub reply_to: Option<String>,
}

// By hand so that a `{:?}` never shows a body.
impl std::fmt::Debug for Content {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Content").finish_non_exhaustive()
    }
}

/// How a new delivery starts.
pub enum Start {
    /// Due now, for the workers.
    Queued,
    /// Claimed by the request itself (a synchronous send), leased until the given time.
    Sending { lease_until: DateTime<Utc> },
}

/// A delivery claimed for one attempt, with what is needed to make it.
#[derive(Debug)]
pub struct Claimed {
    pub delivery: Delivery,
    /// Null only if the row lost its payload some other way (never in normal operation).
    pub content: Option<Content>,
    /// Automatic attempts in this round, this one included.
    pub round_attempts: u32,
}

/// What an attempt came to.
pub enum Outcome {
    Sent,
    /// Failed; try again at `retry_at`, or give up when `None`.
    Failed {
        error: String,
        reply_code: Option<u16>,
        retry_at: Option<DateTime<Utc>>,
    },
}

/// The counts behind the delivery metrics.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stats {
    pub by_status: Vec<(DeliveryStatus, u64)>,
    /// The oldest due time among deliveries waiting for an attempt, if one is due.
    pub oldest_due: Option<DateTime<Utc>>,
}

/// Records a delivery; a synchronous send starts it as claimed by itself (one attempt).
pub async fn create(
    writer: &Writer,
    secrets: &SecretBox,
    new: NewDelivery,
    start: Start,
    now: DateTime<Utc>,
    audit: &AuditContext,
) -> Result<Delivery> {
    let record = AuditEntry::new(AuditAction::Send, Some(new.notifier_id), Changes::default());
    let record = audit::after(writer.backend(), audit, record, Some(Refers::NewDelivery))?;
    let now = now.trunc_subsecs(6);
    let (status, attempts, due_at) = match start {
        Start::Queued => (DeliveryStatus::Queued, 0, now),
        Start::Sending { lease_until } => (DeliveryStatus::Sending, 1, lease_until),
    };
    let row = ActiveModel {
        notifier_id: Set(i32::try_from(new.notifier_id).ok()),
        notifier_name: Set(new.notifier_name),
        status: Set(status.as_str().to_owned()),
        recipients: Set(to_json(&new.recipients)?),
        subject: Set(new.subject),
        message_id: Set(new.message_id),
        payload_sealed: Set(Some(secrets.seal(&to_json(&new.content)?))),
        attempts: Set(attempts),
        round_attempts: Set(attempts),
        due_at: Set(Some(due_at)),
        last_error: Set(None),
        last_reply_code: Set(None),
        requested_by: Set(new.requested_by),
        created_at: Set(now),
        updated_at: Set(now),
        sent_at: Set(None),
        ..Default::default()
    };
    let mut insert = Entity::insert(row).into_query();
    insert.returning_all();
    let model = returned(writer, writer.backend().build(&insert), Some(record)).await?;
    model.ok_or(Error::NotFound).and_then(to_domain)
}

/// Leases the delivery due first (a queued or deferred one whose time has come, or one
/// whose lease ran out) until `lease_until`, counting the attempt; `None` when none is due.
pub async fn claim(
    writer: &Writer,
    secrets: &SecretBox,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Option<Claimed>> {
    let mut due = Query::select();
    due.column(Column::Id)
        .from(Entity)
        .and_where(Column::DueAt.lte(now))
        .order_by(Column::DueAt, sea_orm::Order::Asc)
        .order_by(Column::Id, sea_orm::Order::Asc)
        .limit(1);
    if writer.backend() == DbBackend::Postgres {
        due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let mut update = Entity::update_many()
        .col_expr(Column::Status, Expr::val(DeliveryStatus::Sending.as_str()))
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .col_expr(
            Column::RoundAttempts,
            Expr::col(Column::RoundAttempts).add(1),
        )
        .col_expr(Column::DueAt, Expr::val(lease_until))
        .col_expr(Column::UpdatedAt, Expr::val(now.trunc_subsecs(6)))
        .filter(Column::Id.in_subquery(due))
        .into_query();
    update.returning_all();
    let Some(model) = returned(writer, writer.backend().build(&update), None).await? else {
        return Ok(None);
    };
    let content = match &model.payload_sealed {
        Some(sealed) => Some(from_json(
            &secrets.open(sealed).ok_or(Error::Undecryptable)?,
        )?),
        None => None,
    };
    let round_attempts = u32::try_from(model.round_attempts).unwrap_or_default();
    Ok(Some(Claimed {
        delivery: to_domain(model)?,
        content,
        round_attempts,
    }))
}

/// Records the outcome of the attempt a claim (or a synchronous send) made; `None` when the
/// claim is no longer this one (its lease ran out and another worker took the delivery).
pub async fn record(
    writer: &Writer,
    claimed: &Delivery,
    outcome: Outcome,
    now: DateTime<Utc>,
) -> Result<Option<Delivery>> {
    let now = now.trunc_subsecs(6);
    let mut update = Entity::update_many().col_expr(Column::UpdatedAt, Expr::val(now));
    update = match outcome {
        Outcome::Sent => update
            .col_expr(Column::Status, Expr::val(DeliveryStatus::Sent.as_str()))
            .col_expr(Column::SentAt, Expr::val(now))
            .col_expr(Column::DueAt, Expr::val(None::<DateTime<Utc>>))
            // A sent message's text is no longer needed (§9).
            .col_expr(Column::PayloadSealed, Expr::val(None::<String>)),
        Outcome::Failed {
            error,
            reply_code,
            retry_at,
        } => {
            let status = match retry_at {
                Some(_) => DeliveryStatus::Deferred,
                None => DeliveryStatus::Failed,
            };
            update
                .col_expr(Column::Status, Expr::val(status.as_str()))
                .col_expr(
                    Column::DueAt,
                    Expr::val(retry_at.map(|t| t.trunc_subsecs(6))),
                )
                .col_expr(Column::LastError, Expr::val(error))
                .col_expr(Column::LastReplyCode, Expr::val(reply_code.map(i32::from)))
        }
    };
    let mut update = still_claimed(update, claimed).into_query();
    update.returning_all();
    returned(writer, writer.backend().build(&update), None)
        .await?
        .map(to_domain)
        .transpose()
}

/// Gives back a claim no attempt was made for (a worker stopping with its next delivery
/// claimed): due now again, its attempt counts as not made. `false` when the claim had
/// lapsed meanwhile.
pub async fn release(writer: &Writer, claimed: &Delivery, now: DateTime<Utc>) -> Result<bool> {
    let now = now.trunc_subsecs(6);
    let update = Entity::update_many()
        .col_expr(Column::Status, Expr::val(DeliveryStatus::Queued.as_str()))
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).sub(1))
        .col_expr(
            Column::RoundAttempts,
            Expr::col(Column::RoundAttempts).sub(1),
        )
        .col_expr(Column::DueAt, Expr::val(now))
        .col_expr(Column::UpdatedAt, Expr::val(now));
    let mut update = still_claimed(update, claimed).into_query();
    update.returning_col(Column::Id);
    returned_id(writer, writer.backend().build(&update)).await
}

/// Only while `claimed` is still the claim made: a lapsed claim's worker changes nothing.
fn still_claimed(
    update: sea_orm::UpdateMany<Entity>,
    claimed: &Delivery,
) -> sea_orm::UpdateMany<Entity> {
    update
        .filter(Column::Id.eq(claimed.id))
        .filter(Column::Status.eq(DeliveryStatus::Sending.as_str()))
        .filter(Column::Attempts.eq(i32::try_from(claimed.attempts).unwrap_or(i32::MAX)))
}

async fn returned_id(writer: &Writer, statement: sea_orm::Statement) -> Result<bool> {
    let written = writer.execute(statement).await.map_err(Error::from)?;
    Ok(!written.rows.is_empty())
}

/// Why a retry or a cancel changed nothing.
#[derive(Debug)]
pub enum Refused {
    NotFound,
    /// The delivery exists but is in a state the action does not apply to.
    WrongState,
}

/// A failed or deferred delivery → queued now, with a fresh round of automatic attempts.
pub async fn retry(
    writer: &Writer,
    id: i64,
    now: DateTime<Utc>,
    audit: &AuditContext,
) -> Result<std::result::Result<Delivery, Refused>> {
    let now = now.trunc_subsecs(6);
    let update = Entity::update_many()
        .col_expr(Column::Status, Expr::val(DeliveryStatus::Queued.as_str()))
        .col_expr(Column::DueAt, Expr::val(now))
        .col_expr(Column::RoundAttempts, Expr::val(0))
        .col_expr(Column::UpdatedAt, Expr::val(now))
        .filter(Column::PayloadSealed.is_not_null());
    let record = action_record(writer, audit, AuditAction::Retry, id)?;
    transition(
        writer,
        id,
        update,
        &[DeliveryStatus::Failed, DeliveryStatus::Deferred],
        record,
    )
    .await
}

/// A queued or deferred delivery → cancelled; its text is erased.
pub async fn cancel(
    writer: &Writer,
    id: i64,
    now: DateTime<Utc>,
    audit: &AuditContext,
) -> Result<std::result::Result<Delivery, Refused>> {
    let update = Entity::update_many()
        .col_expr(
            Column::Status,
            Expr::val(DeliveryStatus::Cancelled.as_str()),
        )
        .col_expr(Column::DueAt, Expr::val(None::<DateTime<Utc>>))
        .col_expr(Column::PayloadSealed, Expr::val(None::<String>))
        .col_expr(Column::UpdatedAt, Expr::val(now.trunc_subsecs(6)));
    let record = action_record(writer, audit, AuditAction::Cancel, id)?;
    transition(
        writer,
        id,
        update,
        &[DeliveryStatus::Queued, DeliveryStatus::Deferred],
        record,
    )
    .await
}

/// The audit record of a retry or cancel of delivery `id`, under the delivery's notifier.
fn action_record(
    writer: &Writer,
    audit: &AuditContext,
    action: AuditAction,
    id: i64,
) -> Result<sea_orm::Statement> {
    let entry = AuditEntry::new(action, None, Changes::default().naming("delivery", id));
    audit::after(
        writer.backend(),
        audit,
        entry,
        Some(Refers::DeliveryNotifier(id)),
    )
}

async fn transition(
    writer: &Writer,
    id: i64,
    update: sea_orm::UpdateMany<Entity>,
    from: &[DeliveryStatus],
    record: sea_orm::Statement,
) -> Result<std::result::Result<Delivery, Refused>> {
    let mut update = update
        .filter(Column::Id.eq(id))
        .filter(Column::Status.is_in(from.iter().map(|s| s.as_str())))
        .into_query();
    update.returning_all();
    if let Some(model) = returned(writer, writer.backend().build(&update), Some(record)).await? {
        return Ok(Ok(to_domain(model)?));
    }
    let exists = Entity::find_by_id(id).count(writer.db()).await? > 0;
    Ok(Err(if exists {
        Refused::WrongState
    } else {
        Refused::NotFound
    }))
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Delivery> {
    let model = Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound)?;
    to_domain(model)
}

/// One page of the list: its number, the count of all matching deliveries, and its
/// deliveries; `None` when the page is past the last (the first page always exists).
pub async fn page(
    db: &impl ConnectionTrait,
    query: &DeliveryQuery,
) -> Result<Option<(u64, u64, Vec<Delivery>)>> {
    let mut select = Entity::find();
    if let Some(notifier) = query.notifier {
        select = select.filter(Column::NotifierId.eq(notifier));
    }
    if let Some(status) = query.status {
        select = select.filter(Column::Status.eq(status.as_str()));
    }
    let count = select.clone().count(db).await?;
    let Some(number) = page_number(count, query.page_size, query.page) else {
        return Ok(None);
    };
    // Ids follow creation order, so they break created_at's ties the same way.
    let (column, direction) = match query.ordering {
        DeliveryOrder::CreatedAt(direction) => (Column::CreatedAt, direction),
        DeliveryOrder::Id(direction) => (Column::Id, direction),
    };
    let order = match direction {
        Direction::Ascending => sea_orm::Order::Asc,
        Direction::Descending => sea_orm::Order::Desc,
    };
    let models = select
        .order_by(column, order.clone())
        .order_by(Column::Id, order)
        .offset((number - 1) * query.page_size)
        .limit(query.page_size)
        .all(db)
        .await?;
    let deliveries = models.into_iter().map(to_domain).collect::<Result<_>>()?;
    Ok(Some((number, count, deliveries)))
}

/// Deletes up to `limit` finished deliveries last changed before `before`; how many went.
pub async fn purge_finished(writer: &Writer, before: DateTime<Utc>, limit: u64) -> Result<u64> {
    let finished = [
        DeliveryStatus::Sent,
        DeliveryStatus::Failed,
        DeliveryStatus::Cancelled,
    ];
    let mut old = Query::select();
    old.column(Column::Id)
        .from(Entity)
        .and_where(Column::UpdatedAt.lt(before))
        .and_where(Column::Status.is_in(finished.iter().map(|s| s.as_str())))
        .limit(limit);
    delete_selected::<Entity>(writer, Column::Id, old).await
}

/// Deliveries per status and the oldest due time, for the metrics endpoint.
pub async fn stats(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Stats> {
    let counts: Vec<(String, i64)> = Entity::find()
        .select_only()
        .column(Column::Status)
        .column_as(Column::Id.count(), "count")
        .group_by(Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let by_status = DeliveryStatus::ALL
        .into_iter()
        .map(|status| {
            let count = counts
                .iter()
                .find(|(s, _)| s == status.as_str())
                .map_or(0, |(_, n)| n.unsigned_abs());
            (status, count)
        })
        .collect();
    let oldest_due: Option<Option<DateTime<Utc>>> = Entity::find()
        .select_only()
        .column_as(Column::DueAt.min(), "oldest")
        .filter(Column::DueAt.lte(now))
        .filter(Column::Status.is_in([
            DeliveryStatus::Queued.as_str(),
            DeliveryStatus::Deferred.as_str(),
        ]))
        .into_tuple()
        .one(db)
        .await?;
    Ok(Stats {
        by_status,
        oldest_due: oldest_due.flatten(),
    })
}

/// How long before now a lease may be granted for: the claim's lease length.
pub fn lease_until(now: DateTime<Utc>, lease: std::time::Duration) -> DateTime<Utc> {
    now + Duration::from_std(lease).unwrap_or(Duration::MAX)
}

/// The row `statement` returned, if any, once committed (with `record` after it, in the
/// same transaction, when given).
async fn returned(
    writer: &Writer,
    statement: sea_orm::Statement,
    record: Option<sea_orm::Statement>,
) -> Result<Option<Model>> {
    let written = match record {
        Some(record) => writer.execute_then(statement, record).await,
        None => writer.execute(statement).await,
    };
    let written = written.map_err(Error::from)?;
    match written.rows.first() {
        Some(row) => Ok(Some(Model::from_query_result(row, "")?)),
        None => Ok(None),
    }
}

fn to_domain(model: Model) -> Result<Delivery> {
    let status = DeliveryStatus::parse(&model.status).ok_or_else(|| corrupt("status"))?;
    let recipients: Recipients = from_json(&model.recipients)?;
    Ok(Delivery {
        id: model.id,
        notifier: model.notifier_id.map(i64::from),
        notifier_name: model.notifier_name,
        status,
        to: recipients.to,
        cc: recipients.cc,
        bcc: recipients.bcc,
        subject: model.subject,
        message_id: model.message_id,
        attempts: u32::try_from(model.attempts).unwrap_or_default(),
        next_attempt_at: if status.is_waiting() {
            model.due_at
        } else {
            None
        },
        last_error: model.last_error,
        last_reply_code: model.last_reply_code.and_then(|c| u16::try_from(c).ok()),
        requested_by: model.requested_by,
        created_at: model.created_at,
        updated_at: model.updated_at,
        sent_at: model.sent_at,
    })
}

fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|_| corrupt("json"))
}

fn from_json<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|_| corrupt("json"))
}

fn corrupt(what: &str) -> Error {
    Error::Database(sea_orm::DbErr::Custom(format!(
        "a delivery row holds an unreadable {what}"
    )))
}

#[cfg(test)]
mod tests;
