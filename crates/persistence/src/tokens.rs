//! API tokens: random keys shown once, stored as SHA-256 hashes, resolved to principals.
//! A token may expire; when it was last used is kept for `token list`.

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound, Utc};
use notifier_domain::Principal;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};
use sha2::{Digest, Sha256};

use crate::entities::{api_token, user};
use crate::users::{self, db_id};
use crate::{Error, Result};

/// Token keys; also the bootstrap token generated at first start.
pub use crate::keys::generate_key;

/// How many of a key's characters `token list` shows: enough to tell tokens apart, too
/// few to use (a 40-character key keeps 128 unknown bits).
const PREFIX_LEN: usize = 8;

pub fn hash_key(key: &str) -> String {
    hex::encode(digest(key))
}

/// The key's SHA-256, raw: what in-memory caches key a token by.
pub fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// A stored token as `token list` shows it; never its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: i64,
    pub username: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The key's first characters; `None` for tokens made before they were kept.
    pub key_prefix: Option<String>,
}

/// A key that matched a token: whose it is, and until when it works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenMatch {
    pub token_id: i64,
    pub expires_at: Option<DateTime<Utc>>,
    pub principal: Principal,
}

/// Issues a new token for the user and returns its key; the key is not kept.
pub async fn issue(
    db: &impl ConnectionTrait,
    username: &str,
    expires_at: Option<DateTime<Utc>>,
) -> Result<String> {
    let user = users::find(db, username).await?;
    let key = generate_key();
    store(db, user.id, &key, expires_at).await?;
    Ok(key)
}

/// Stores the hash of a key chosen elsewhere (the configured bootstrap token).
pub async fn store(
    db: &impl ConnectionTrait,
    user_id: i64,
    key: &str,
    expires_at: Option<DateTime<Utc>>,
) -> Result<()> {
    let row = api_token::ActiveModel {
        user_id: Set(db_id(user_id)?),
        key_hash: Set(hash_key(key)),
        created_at: Set(Utc::now().trunc_subsecs(6)),
        expires_at: Set(expires_at.map(|at| at.trunc_subsecs(6))),
        key_prefix: Set(Some(key.chars().take(PREFIX_LEN).collect())),
        ..Default::default()
    };
    row.insert(db).await?;
    Ok(())
}

/// Every token, or one user's (an unknown user is an error), in the order they were made.
pub async fn list(db: &impl ConnectionTrait, username: Option<&str>) -> Result<Vec<TokenInfo>> {
    let mut query = api_token::Entity::find().order_by_asc(api_token::Column::Id);
    if let Some(username) = username {
        let owner = users::find(db, username).await?;
        query = query.filter(api_token::Column::UserId.eq(db_id(owner.id)?));
    }
    let tokens = query.all(db).await?;
    let names: HashMap<i32, String> = user::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.username))
        .collect();
    Ok(tokens
        .into_iter()
        .map(|t| TokenInfo {
            id: i64::from(t.id),
            username: names.get(&t.user_id).cloned().unwrap_or_default(),
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            expires_at: t.expires_at,
            key_prefix: t.key_prefix,
        })
        .collect())
}

pub async fn revoke(db: &impl ConnectionTrait, key: &str) -> Result<()> {
    let result = api_token::Entity::delete_many()
        .filter(api_token::Column::KeyHash.eq(hash_key(key)))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(Error::NoSuchToken);
    }
    crate::epochs::advance(db).await
}

/// Revokes the token with this id (as `token list` shows it).
pub async fn revoke_by_id(db: &impl ConnectionTrait, id: i64) -> Result<()> {
    let id = i32::try_from(id).map_err(|_| Error::NoSuchTokenId(id))?;
    let result = api_token::Entity::delete_by_id(id).exec(db).await?;
    if result.rows_affected == 0 {
        return Err(Error::NoSuchTokenId(i64::from(id)));
    }
    crate::epochs::advance(db).await
}

/// Records a use of the token at `at`. Never moves the time back (another instance may
/// have written a later use) and leaves the auth epoch alone: no cache is retired by it.
pub async fn mark_used(db: &impl ConnectionTrait, token_id: i64, at: DateTime<Utc>) -> Result<()> {
    let at = at.trunc_subsecs(6);
    api_token::Entity::update_many()
        .col_expr(api_token::Column::LastUsedAt, Expr::value(Some(at)))
        .filter(api_token::Column::Id.eq(db_id(token_id)?))
        .filter(
            api_token::Column::LastUsedAt
                .is_null()
                .or(api_token::Column::LastUsedAt.lt(at)),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// The token behind a key and its principal, active or not, expired or not; `None` for an
/// unknown or revoked key.
pub async fn authenticate(db: &impl ConnectionTrait, key: &str) -> Result<Option<TokenMatch>> {
    let token = api_token::Entity::find()
        .filter(api_token::Column::KeyHash.eq(hash_key(key)))
        .one(db)
        .await?;
    let Some(token) = token else { return Ok(None) };
    // Two indexed lookups; a user deleted under its token reads as an unknown token.
    let Some(user) = user::Entity::find_by_id(token.user_id).one(db).await? else {
        return Ok(None);
    };
    let user = users::to_domain(user);
    let granted = users::granted(db, user.id).await?;
    Ok(Some(TokenMatch {
        token_id: i64::from(token.id),
        expires_at: token.expires_at,
        principal: Principal { user, granted },
    }))
}

/// The id of the token with this key (what audit records name instead of the key).
pub async fn id_of(db: &impl ConnectionTrait, key: &str) -> Result<i64> {
    api_token::Entity::find()
        .filter(api_token::Column::KeyHash.eq(hash_key(key)))
        .one(db)
        .await?
        .map(|token| i64::from(token.id))
        .ok_or(Error::NoSuchToken)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_sha256_hex() {
        assert_eq!(
            hash_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
