//! `keys rotate`: every sealed value re-encrypted under the primary key, a batch at a time.
//!
//! Safe beside serving instances: each value is replaced by a compare-and-set on the
//! ciphertext read (`UPDATE … WHERE key = ? AND column = <old>`), so a value an instance
//! wrote meanwhile (sealed with the primary key already) is never overwritten. Re-runnable:
//! a batch only selects values not yet under the primary key, so an interrupted run leaves
//! nothing half-done that a second run would not finish.

use std::time::Duration;

use sea_orm::sea_query::{
    Alias, Cond, DynIden, Expr, ExprTrait, IntoIden, Order, Query, SelectStatement, Value,
};
use sea_orm::{ConnectionTrait, EntityName, IdenStatic, QueryResult};

use crate::entities::{
    delivery, email_notifier, idempotency_key, notifier_authentication, notifier_dkim, server_meta,
};
use crate::secret_box::KEY_CHECK_NAME;
use crate::{Result, SecretBox};

/// How a row is named: integer or text key columns.
#[derive(Clone, Copy)]
enum KeyType {
    Int,
    Text,
}

/// One column of sealed values. Every sealed column of the schema is listed in
/// [`sealed_columns`]: a new one must be added there, or rotation would leave it behind.
struct SealedColumn {
    table: DynIden,
    keys: Vec<(DynIden, KeyType)>,
    column: DynIden,
    /// Rows of the table that hold no sealed value in this column are left out.
    only: Option<(DynIden, &'static str)>,
}

impl SealedColumn {
    fn new<E: EntityName>(
        entity: E,
        keys: &[(&'static str, KeyType)],
        column: impl IdenStatic,
    ) -> Self {
        Self {
            table: entity.into_iden(),
            keys: keys
                .iter()
                .map(|(k, t)| (Alias::new(*k).into_iden(), *t))
                .collect(),
            column: column.into_iden(),
            only: None,
        }
    }

    fn name(&self) -> String {
        format!("{}.{}", self.table, self.column)
    }
}

fn sealed_columns() -> Vec<SealedColumn> {
    use KeyType::{Int, Text};
    let mut check = SealedColumn::new(
        server_meta::Entity,
        &[("name", Text)],
        server_meta::Column::Value,
    );
    check.only = Some((Alias::new("name").into_iden(), KEY_CHECK_NAME));
    vec![
        check,
        SealedColumn::new(
            email_notifier::Entity,
            &[("id", Int)],
            email_notifier::Column::PasswordSealed,
        ),
        SealedColumn::new(
            notifier_authentication::Entity,
            &[("notifier_id", Int)],
            notifier_authentication::Column::ClientSecretSealed,
        ),
        SealedColumn::new(
            notifier_authentication::Entity,
            &[("notifier_id", Int)],
            notifier_authentication::Column::RefreshTokenSealed,
        ),
        SealedColumn::new(
            notifier_dkim::Entity,
            &[("notifier_id", Int)],
            notifier_dkim::Column::PrivateKeySealed,
        ),
        SealedColumn::new(
            delivery::Entity,
            &[("id", Int)],
            delivery::Column::PayloadSealed,
        ),
        SealedColumn::new(
            idempotency_key::Entity,
            &[("user_id", Int), ("key", Text)],
            idempotency_key::Column::Response,
        ),
    ]
}

/// How a rotation went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rotated {
    /// Values re-encrypted under the primary key by this run.
    pub re_encrypted: u64,
    /// Values still sealed with another key (or with no key id) when the run ended.
    pub remaining: u64,
    /// Values no key of the ring opens (`table.column` and the row's key): left as they are.
    pub unreadable: Vec<String>,
}

/// Batch size and pace of a rotation.
#[derive(Debug, Clone, Copy)]
pub struct RotateOptions {
    pub batch_size: u64,
    pub pause: Duration,
}

/// Passes over the sealed columns at most: a value an instance rewrote under an old key
/// during a pass (one not yet restarted with the new ring) is taken by the next.
const PASSES: usize = 3;

/// Re-encrypts every sealed value not yet under the primary key; `progress` hears the
/// running total after each batch.
pub async fn rotate(
    db: &impl ConnectionTrait,
    secrets: &SecretBox,
    options: RotateOptions,
    mut progress: impl FnMut(u64),
) -> Result<Rotated> {
    let columns = sealed_columns();
    let mut rotated = Rotated::default();
    for _ in 0..PASSES {
        rotated.unreadable.clear();
        let before = rotated.re_encrypted;
        for column in &columns {
            rotate_column(db, secrets, column, options, &mut rotated, &mut progress).await?;
        }
        rotated.remaining = remaining(db, secrets, &columns).await?;
        let unreadable = rotated.unreadable.len() as u64;
        if rotated.remaining <= unreadable || rotated.re_encrypted == before {
            break;
        }
    }
    Ok(rotated)
}

async fn remaining(
    db: &impl ConnectionTrait,
    secrets: &SecretBox,
    columns: &[SealedColumn],
) -> Result<u64> {
    let mut total = 0;
    for column in columns {
        let query = Query::select()
            .expr(Expr::col(column.column.clone()).count())
            .from(column.table.clone())
            .cond_where(old_values(column, secrets))
            .to_owned();
        let row = db.query_one(&query).await?;
        let count = match row {
            Some(row) => row.try_get_by_index::<i64>(0)?,
            None => 0,
        };
        total += u64::try_from(count).unwrap_or_default();
    }
    Ok(total)
}

/// The rows of `column` whose value is not sealed with the primary key.
fn old_values(column: &SealedColumn, secrets: &SecretBox) -> Cond {
    let mut cond = Cond::all()
        .add(Expr::col(column.column.clone()).is_not_null())
        .add(Expr::col(column.column.clone()).not_like(format!("{}%", secrets.primary_prefix())));
    if let Some((name, value)) = &column.only {
        cond = cond.add(Expr::col(name.clone()).eq(*value));
    }
    cond
}

async fn rotate_column(
    db: &impl ConnectionTrait,
    secrets: &SecretBox,
    column: &SealedColumn,
    options: RotateOptions,
    rotated: &mut Rotated,
    progress: &mut impl FnMut(u64),
) -> Result<()> {
    // Keyset pagination: a value that could not be replaced is not read again this pass.
    let mut after: Option<Vec<Value>> = None;
    loop {
        let rows = db
            .query_all(&batch_query(column, secrets, after.as_deref(), options))
            .await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = Some(key_of(column, last)?);
        for row in &rows {
            let key = key_of(column, row)?;
            let old: String = row.try_get_by_index(column.keys.len())?;
            let Some(new) = secrets.reseal(&old) else {
                rotated
                    .unreadable
                    .push(format!("{} {}", column.name(), describe(&key)));
                continue;
            };
            if replace(db, column, &key, &old, new).await? {
                rotated.re_encrypted += 1;
            }
        }
        progress(rotated.re_encrypted);
        if !options.pause.is_zero() {
            tokio::time::sleep(options.pause).await;
        }
    }
}

fn batch_query(
    column: &SealedColumn,
    secrets: &SecretBox,
    after: Option<&[Value]>,
    options: RotateOptions,
) -> SelectStatement {
    let mut query = Query::select();
    for (key, kind) in &column.keys {
        match kind {
            // As BIGINT on every backend, so one reader fits every integer key.
            KeyType::Int => query.expr(Expr::col(key.clone()).cast_as(Alias::new("BIGINT"))),
            KeyType::Text => query.column(key.clone()),
        };
        query.order_by(key.clone(), Order::Asc);
    }
    query
        .column(column.column.clone())
        .from(column.table.clone())
        .cond_where(old_values(column, secrets))
        .limit(options.batch_size);
    if let Some(after) = after {
        let columns = column.keys.iter().map(|(k, _)| Expr::col(k.clone()));
        let values = after.iter().cloned().map(Expr::val);
        query.and_where(Expr::tuple(columns).gt(Expr::tuple(values)));
    }
    query
}

fn key_of(column: &SealedColumn, row: &QueryResult) -> Result<Vec<Value>> {
    column
        .keys
        .iter()
        .enumerate()
        .map(|(index, (_, kind))| {
            Ok(match kind {
                KeyType::Int => Value::from(row.try_get_by_index::<i64>(index)?),
                KeyType::Text => Value::from(row.try_get_by_index::<String>(index)?),
            })
        })
        .collect()
}

fn describe(key: &[Value]) -> String {
    let parts: Vec<String> = key
        .iter()
        .map(|value| match value {
            Value::BigInt(Some(n)) => n.to_string(),
            Value::String(Some(s)) => s.to_string(),
            other => format!("{other:?}"),
        })
        .collect();
    parts.join("/")
}

/// Compare-and-set: whether the row still held `old` and now holds `new`.
async fn replace(
    db: &impl ConnectionTrait,
    column: &SealedColumn,
    key: &[Value],
    old: &str,
    new: String,
) -> Result<bool> {
    let mut update = Query::update();
    update
        .table(column.table.clone())
        .value(column.column.clone(), new)
        .and_where(Expr::col(column.column.clone()).eq(old));
    for ((name, _), value) in column.keys.iter().zip(key) {
        update.and_where(Expr::col(name.clone()).eq(value.clone()));
    }
    Ok(db.execute(&update).await?.rows_affected() == 1)
}

#[cfg(test)]
mod tests;
