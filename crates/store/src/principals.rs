//! Tokens resolved to principals, remembered under the auth epoch: one shared epoch read
//! per few milliseconds replaces the three-query lookup of every request. Expiry is
//! checked on every request against the clock, so a cached token stops at its time.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use notifier_domain::Principal;
use notifier_persistence::{DatabaseConnection, tokens};

use crate::Clock;
use crate::cache::EpochCache;
use crate::epochs::EpochReader;
use crate::token_use::{LastNoted, TokenUse};

/// Tokens remembered at most (each a few hundred bytes).
const PRINCIPALS_KEPT: u64 = 4096;
/// Wrong tokens remembered at most (each about 130 bytes).
const UNKNOWN_TOKENS_KEPT: u64 = 8192;

/// What a key turned out to be.
#[derive(Debug, Clone)]
pub enum TokenCheck {
    /// No such token (never made, or revoked).
    Unknown,
    /// The token's `expires_at` has passed.
    Expired,
    /// The token's user, active or not.
    Valid(Arc<Principal>),
}

/// A token as remembered: whose, until when, and when its last use was noted.
#[derive(Debug)]
struct Known {
    token_id: i64,
    expires_at: Option<DateTime<Utc>>,
    principal: Arc<Principal>,
    noted: LastNoted,
}

/// Cheap to clone; clones share the caches.
#[derive(Clone)]
pub struct Principals {
    db: DatabaseConnection,
    epochs: EpochReader,
    clock: Clock,
    usage: TokenUse,
    /// Token digest → token, under the auth epoch.
    known: EpochCache<[u8; 32], String, Arc<Known>>,
    /// Digests of tokens that matched no one, under the auth epoch (a new token moves it):
    /// repeating a wrong token costs no database query. Apart from `known`, so a flood of
    /// made-up tokens cannot evict the real ones.
    unknown: EpochCache<[u8; 32], String, ()>,
}

impl Principals {
    pub(crate) fn new(db: DatabaseConnection, epochs: EpochReader, clock: Clock) -> Self {
        Self {
            usage: TokenUse::start(db.clone()),
            db,
            epochs,
            clock,
            known: EpochCache::new(PRINCIPALS_KEPT as usize, PRINCIPALS_KEPT, |_| 1),
            unknown: EpochCache::new(UNKNOWN_TOKENS_KEPT as usize, UNKNOWN_TOKENS_KEPT, |_| 1),
        }
    }

    /// What the key is. A use of a valid token by an active user is noted for
    /// `last_used_at`, off the request path.
    pub async fn authenticate(&self, key: &str) -> crate::Result<TokenCheck> {
        let Some(known) = self.lookup(key).await? else {
            return Ok(TokenCheck::Unknown);
        };
        let now = self.clock.utc_now();
        if known.expires_at.is_some_and(|at| at <= now) {
            return Ok(TokenCheck::Expired);
        }
        if known.principal.user.is_active {
            self.usage.note(known.token_id, &known.noted, now);
        }
        Ok(TokenCheck::Valid(Arc::clone(&known.principal)))
    }

    async fn lookup(&self, key: &str) -> crate::Result<Option<Arc<Known>>> {
        let epochs = self.epochs.current().await?;
        let digest = tokens::digest(key);
        let current = |auth_epoch: &String| *auth_epoch == epochs.auth;
        let cached = self.known.get(&digest, current);
        if cached.is_some() {
            return Ok(cached);
        }
        if self.unknown.get(&digest, current).is_some() {
            return Ok(None);
        }
        let found = tokens::authenticate(&self.db, key).await?.map(|found| {
            Arc::new(Known {
                token_id: found.token_id,
                expires_at: found.expires_at,
                principal: Arc::new(found.principal),
                noted: LastNoted::default(),
            })
        });
        match &found {
            Some(known) => {
                self.known
                    .insert(digest, epochs.auth.clone(), Arc::clone(known));
            }
            None => self.unknown.insert(digest, epochs.auth.clone(), ()),
        }
        Ok(found)
    }
}
