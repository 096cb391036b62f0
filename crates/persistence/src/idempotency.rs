//! `Idempotency-Key` claims: one row per user and key, which exactly one request holds.
//!
//! A request claims a key with an `INSERT … ON CONFLICT DO NOTHING`: on any number of
//! instances, one insert wins. A row that has outlived [`KEY_LIFETIME`], or that has been
//! "in progress" longer than the caller's bound (its request died with its process), is
//! retaken by a conditional `UPDATE` that names the claim token it read: of several
//! retakers, one matches. Only the holder's token can store the answer or let the key go.
//! Answers are sealed with the [`SecretBox`]: a create's answer may carry a password.

use chrono::{DateTime, Utc};
use notifier_domain::idempotency::{Fingerprint, IdempotencyKey, KEY_LIFETIME, StoredResponse};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::entities::idempotency_key::{ActiveModel, Column, Entity, Model};
use crate::users::db_id;
use crate::{Error, Result, SecretBox};

/// Rounds of "insert, else read and retake" before a claim gives up as in progress: each
/// lost round means another request took the row in between.
const ROUNDS: usize = 4;

/// What claiming a key found.
#[derive(Debug)]
pub enum Claimed {
    /// This request holds the key: run it, then [`finish`] or [`release`].
    Won(Claim),
    /// The same request was answered before: this is its answer.
    Replay(StoredResponse),
    /// The same request is running now.
    InProgress,
    /// The key was used for a different request.
    Mismatch,
}

/// Proof of holding a key.
#[derive(Debug, Clone)]
pub struct Claim {
    user_id: i32,
    key: String,
    token: String,
}

/// Claims `key` for `user_id`'s request, as of `now`; an unanswered claim older than
/// `abandon_after` is taken over.
pub async fn claim(
    db: &impl ConnectionTrait,
    secrets: &SecretBox,
    user_id: i64,
    key: &IdempotencyKey,
    fingerprint: Fingerprint,
    now: DateTime<Utc>,
    abandon_after: std::time::Duration,
) -> Result<Claimed> {
    let user_id = db_id(user_id)?;
    let fingerprint = hex::encode(fingerprint.0);
    for _ in 0..ROUNDS {
        let claim = Claim {
            user_id,
            key: key.as_str().to_owned(),
            token: crate::keys::generate_key()[..32].to_owned(),
        };
        let row = ActiveModel {
            user_id: Set(user_id),
            key: Set(claim.key.clone()),
            fingerprint: Set(fingerprint.clone()),
            claim: Set(claim.token.clone()),
            claimed_at: Set(now),
            response: Set(None),
        };
        let inserted = Entity::insert(row)
            .on_conflict(
                OnConflict::columns([Column::UserId, Column::Key])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await;
        match inserted {
            Ok(1) => return Ok(Claimed::Won(claim)),
            Ok(_) | Err(sea_orm::DbErr::RecordNotInserted) => {}
            Err(e) => return Err(e.into()),
        }
        let Some(found) = Entity::find_by_id((user_id, claim.key.clone()))
            .one(db)
            .await?
        else {
            continue; // released or pruned since the insert: insert again
        };
        let age = (now - found.claimed_at).to_std().unwrap_or_default();
        let expired = age >= KEY_LIFETIME;
        let abandoned = found.response.is_none() && age >= abandon_after;
        if expired || abandoned {
            if retake(db, &found, &claim, &fingerprint, now).await? {
                return Ok(Claimed::Won(claim));
            }
            continue;
        }
        if found.fingerprint != fingerprint {
            return Ok(Claimed::Mismatch);
        }
        return match found.response {
            None => Ok(Claimed::InProgress),
            Some(sealed) => secrets
                .open_bytes(&sealed)
                .and_then(|plain| StoredResponse::decode(&plain))
                .map(Claimed::Replay)
                .ok_or(Error::Undecryptable),
        };
    }
    Ok(Claimed::InProgress)
}

/// Takes `found` over for `claim` if nobody else did since it was read.
async fn retake(
    db: &impl ConnectionTrait,
    found: &Model,
    claim: &Claim,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let updated = Entity::update_many()
        .col_expr(Column::Fingerprint, Expr::value(fingerprint))
        .col_expr(Column::Claim, Expr::value(claim.token.clone()))
        .col_expr(Column::ClaimedAt, Expr::value(now))
        .col_expr(Column::Response, Expr::value(Option::<String>::None))
        .filter(Column::UserId.eq(found.user_id))
        .filter(Column::Key.eq(found.key.clone()))
        .filter(Column::Claim.eq(found.claim.clone()))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Stores the answer to replay; `false` when the claim was taken over meanwhile (this
/// request ran longer than the abandonment bound), and then nothing is stored.
pub async fn finish(
    db: &impl ConnectionTrait,
    secrets: &SecretBox,
    claim: &Claim,
    response: &StoredResponse,
) -> Result<bool> {
    let sealed = secrets.seal_bytes(&response.encode());
    let updated = Entity::update_many()
        .col_expr(Column::Response, Expr::value(Some(sealed)))
        .filter(held(claim))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Lets the key go unanswered (the request failed in a way worth retrying).
pub async fn release(db: &impl ConnectionTrait, claim: &Claim) -> Result<()> {
    Entity::delete_many().filter(held(claim)).exec(db).await?;
    Ok(())
}

/// Deletes every key claimed [`KEY_LIFETIME`] or longer before `now`; returns how many.
pub async fn prune(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64> {
    let lifetime = chrono::Duration::from_std(KEY_LIFETIME).unwrap_or(chrono::Duration::MAX);
    let deleted = Entity::delete_many()
        .filter(Column::ClaimedAt.lte(now - lifetime))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}

fn held(claim: &Claim) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(Column::UserId.eq(claim.user_id))
        .add(Column::Key.eq(claim.key.clone()))
        .add(Column::Claim.eq(claim.token.clone()))
}

#[cfg(test)]
mod tests;
