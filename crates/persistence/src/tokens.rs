//! API tokens: random keys shown once, stored as SHA-256 hashes, resolved to principals.

use chrono::{SubsecRound, Utc};
use notifier_domain::Principal;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use sha2::{Digest, Sha256};

use crate::entities::{api_token, user};
use crate::users::{self, db_id};
use crate::{Error, Result};

/// Token keys; also the bootstrap token generated at first start.
pub use crate::keys::generate_key;

pub fn hash_key(key: &str) -> String {
    hex::encode(digest(key))
}

/// The key's SHA-256, raw: what in-memory caches key a token by.
pub fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Issues a new token for the user and returns its key; the key is not kept.
pub async fn issue(db: &impl ConnectionTrait, username: &str) -> Result<String> {
    let user = users::find(db, username).await?;
    let key = generate_key();
    store(db, user.id, &key).await?;
    Ok(key)
}

/// Stores the hash of a key chosen elsewhere (the configured bootstrap token).
pub async fn store(db: &impl ConnectionTrait, user_id: i64, key: &str) -> Result<()> {
    let row = api_token::ActiveModel {
        user_id: Set(db_id(user_id)?),
        key_hash: Set(hash_key(key)),
        created_at: Set(Utc::now().trunc_subsecs(6)),
        ..Default::default()
    };
    row.insert(db).await?;
    Ok(())
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

/// The principal behind a key, active or not; `None` for an unknown or revoked key.
pub async fn authenticate(db: &impl ConnectionTrait, key: &str) -> Result<Option<Principal>> {
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
    Ok(Some(Principal { user, granted }))
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
