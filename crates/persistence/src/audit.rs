//! The audit log (§12): records appended in the transaction of the change they record,
//! read newest first, pruned by age. Never updated.
//!
//! A change made through the [`Writer`] takes its record along as the statement that
//! follows it ([`after`]): on SQLite both run in the same batch transaction and the record
//! is inserted only if the change touched a row (`changes()`); on PostgreSQL both run in
//! one transaction and the record only if the change returned a row. Changes made on a
//! connection (authentication, DKIM, users, tokens) append with [`append`] inside their
//! own transaction.

use chrono::{DateTime, SubsecRound, Utc};
use notifier_domain::{AuditContext, AuditEntry, AuditQuery, AuditRecord};
use sea_orm::sea_query::{Expr, Query, SimpleExpr};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
    TransactionTrait,
};

use crate::entities::audit_log::{ActiveModel, Column, Entity, Model};
use crate::pages::{delete_selected, page_number};
use crate::{Error, Result, Writer};

/// A row an [`after`] record refers to whose id the caller does not know: the statement
/// before inserted it, or it is the notifier of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refers {
    /// A notifier just created: the record's `notifier`.
    NewNotifier,
    /// A delivery just recorded: `changes` names it as `"delivery"`.
    NewDelivery,
    /// The record's `notifier` is this delivery's.
    DeliveryNotifier(i64),
}

/// Starts the transaction a change made on a connection and its record share; end it
/// with [`commit`] (dropped, it rolls back: neither the change nor its record stays).
pub async fn begin(db: &DatabaseConnection) -> Result<DatabaseTransaction> {
    Ok(db.begin().await?)
}

pub async fn commit(txn: DatabaseTransaction) -> Result<()> {
    Ok(txn.commit().await?)
}

/// Appends a record on `db` (inside the caller's transaction, so that it commits or rolls
/// back with the change it records).
pub async fn append(
    db: &impl ConnectionTrait,
    context: &AuditContext,
    entry: AuditEntry,
) -> Result<()> {
    let notifier_id = entry.notifier.and_then(|id| i32::try_from(id).ok());
    let row = ActiveModel {
        at: Set(now()),
        actor: Set(context.actor.clone()),
        action: Set(entry.action.as_str().to_owned()),
        notifier_id: Set(notifier_id),
        changes: Set(entry.changes.into_value().to_string()),
        request_id: Set(context.request_id.clone()),
        client_ip: Set(context.client_ip.clone()),
        ..Default::default()
    };
    Entity::insert(row).exec_without_returning(db).await?;
    Ok(())
}

/// The statement that records `entry` right after a change through the [`Writer`]
/// (see [`Writer::execute_then`]).
pub(crate) fn after(
    backend: DbBackend,
    context: &AuditContext,
    entry: AuditEntry,
    refers: Option<Refers>,
) -> Result<Statement> {
    let notifier: SimpleExpr = match refers {
        Some(Refers::NewNotifier) => Expr::cust(inserted_id(backend, "email_notifiers")),
        Some(Refers::DeliveryNotifier(id)) => Expr::cust_with_values(
            format!(
                "(SELECT notifier_id FROM deliveries WHERE id = {})",
                placeholder(backend)
            ),
            [id],
        ),
        _ => Expr::val(entry.notifier.and_then(|id| i32::try_from(id).ok())),
    };
    let changes = entry.changes.into_value().to_string();
    let changes: SimpleExpr = match refers {
        // `{..., "delivery": <id>}`, concatenated in SQL around the id.
        Some(Refers::NewDelivery) => {
            let open = changes.trim_end_matches('}');
            let open = if open == "{" {
                "{\"delivery\":".to_owned()
            } else {
                format!("{open},\"delivery\":")
            };
            Expr::cust_with_values(
                format!(
                    "{} || CAST({} AS TEXT) || '}}'",
                    placeholder(backend),
                    inserted_id(backend, "deliveries")
                ),
                [open],
            )
        }
        _ => Expr::val(changes),
    };
    let mut select = Query::select();
    select.exprs([
        Expr::val(now()),
        Expr::val(context.actor.clone()),
        Expr::val(entry.action.as_str()),
        notifier,
        changes,
        Expr::val(context.request_id.clone()),
        Expr::val(context.client_ip.clone()),
    ]);
    if backend == DbBackend::Sqlite {
        // The batch runs unattended: the record goes in only if the change did.
        select.and_where(Expr::cust("changes() > 0"));
    }
    let mut insert = Query::insert();
    insert
        .into_table(Entity)
        .columns([
            Column::At,
            Column::Actor,
            Column::Action,
            Column::NotifierId,
            Column::Changes,
            Column::RequestId,
            Column::ClientIp,
        ])
        .select_from(select)
        .map_err(|e| Error::Database(sea_orm::DbErr::Custom(e.to_string())))?;
    Ok(backend.build(&insert))
}

/// A custom expression's parameter: sea-query reads `?` on SQLite and `$1` on PostgreSQL.
fn placeholder(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => "$1",
        _ => "?",
    }
}

/// The id the statement before inserted, read in the same transaction (and connection).
fn inserted_id(backend: DbBackend, table: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("currval(pg_get_serial_sequence('{table}', 'id'))"),
        _ => "last_insert_rowid()".to_owned(),
    }
}

/// One page, newest first: its number, the count of all matching records, and its
/// records; `None` when the page is past the last (the first page always exists).
pub async fn page(
    db: &impl ConnectionTrait,
    query: &AuditQuery,
) -> Result<Option<(u64, u64, Vec<AuditRecord>)>> {
    let mut select = Entity::find();
    if let Some(notifier) = query.notifier {
        select = select.filter(Column::NotifierId.eq(notifier));
    }
    for (column, wanted) in [
        (Column::Actor, &query.actor),
        (Column::Action, &query.action),
    ] {
        match wanted {
            // No stored name holds a NUL, and PostgreSQL refuses one in a text value.
            Some(text) if text.contains('\0') => select = select.filter(Expr::val(false)),
            Some(text) => select = select.filter(column.eq(text.as_str())),
            None => {}
        }
    }
    let count = select.clone().count(db).await?;
    let Some(number) = page_number(count, query.page_size, query.page) else {
        return Ok(None);
    };
    // Ids follow the order records were appended in.
    let models = select
        .order_by_desc(Column::Id)
        .offset((number - 1) * query.page_size)
        .limit(query.page_size)
        .all(db)
        .await?;
    let records = models.into_iter().map(to_domain).collect::<Result<_>>()?;
    Ok(Some((number, count, records)))
}

/// Deletes up to `limit` records older than `before`; how many went.
pub async fn prune(writer: &Writer, before: DateTime<Utc>, limit: u64) -> Result<u64> {
    let mut old = Query::select();
    old.column(Column::Id)
        .from(Entity)
        .and_where(Column::At.lt(before))
        .limit(limit);
    delete_selected::<Entity>(writer, Column::Id, old).await
}

fn to_domain(model: Model) -> Result<AuditRecord> {
    let changes = serde_json::from_str(&model.changes).map_err(|e| {
        Error::Database(sea_orm::DbErr::Custom(format!(
            "audit record {} holds no JSON: {e}",
            model.id
        )))
    })?;
    Ok(AuditRecord {
        id: model.id,
        at: model.at,
        actor: model.actor,
        action: model.action,
        notifier: model.notifier_id.map(i64::from),
        changes,
        request_id: model.request_id,
        client_ip: model.client_ip,
    })
}

/// Microsecond precision: what PostgreSQL keeps and what responses show.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

#[cfg(test)]
mod tests {
    use notifier_domain::{AuditAction, Changes};

    use super::*;

    #[test]
    fn a_record_after_a_send_binds_every_value_on_both_backends() {
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            let entry = AuditEntry::new(AuditAction::Send, Some(3), Changes::default());
            let context = AuditContext::cli();
            let statement = after(backend, &context, entry, Some(Refers::NewDelivery));
            let statement = statement.unwrap_or_else(|e| panic!("{backend:?}: {e}"));
            let bound = statement.values.map_or(0, |values| values.0.len());
            assert_eq!(bound, 7, "{backend:?}: {}", statement.sql);
        }
    }
}
