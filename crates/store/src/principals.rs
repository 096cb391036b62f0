//! Tokens resolved to principals, remembered under the auth epoch: one shared epoch read
//! per few milliseconds replaces the three-query lookup of every request.

use std::sync::Arc;

use notifier_domain::Principal;
use notifier_persistence::{DatabaseConnection, tokens};

use crate::cache::EpochCache;
use crate::epochs::EpochReader;

/// Tokens remembered at most (each a few hundred bytes).
const PRINCIPALS_KEPT: u64 = 4096;
/// Wrong tokens remembered at most (each about 130 bytes).
const UNKNOWN_TOKENS_KEPT: u64 = 8192;

/// Cheap to clone; clones share the caches.
#[derive(Clone)]
pub struct Principals {
    db: DatabaseConnection,
    epochs: EpochReader,
    /// Token digest → principal, under the auth epoch.
    known: EpochCache<[u8; 32], String, Arc<Principal>>,
    /// Digests of tokens that matched no one, under the auth epoch (a new token moves it):
    /// repeating a wrong token costs no database query. Apart from `known`, so a flood of
    /// made-up tokens cannot evict the real ones.
    unknown: EpochCache<[u8; 32], String, ()>,
}

impl Principals {
    pub(crate) fn new(db: DatabaseConnection, epochs: EpochReader) -> Self {
        Self {
            db,
            epochs,
            known: EpochCache::new(PRINCIPALS_KEPT as usize, PRINCIPALS_KEPT, |_| 1),
            unknown: EpochCache::new(UNKNOWN_TOKENS_KEPT as usize, UNKNOWN_TOKENS_KEPT, |_| 1),
        }
    }

    /// The principal behind a token, active or not; `None` for an unknown or revoked one.
    pub async fn authenticate(&self, key: &str) -> crate::Result<Option<Arc<Principal>>> {
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
        let found = tokens::authenticate(&self.db, key).await?.map(Arc::new);
        match &found {
            Some(principal) => {
                self.known
                    .insert(digest, epochs.auth.clone(), Arc::clone(principal));
            }
            None => self.unknown.insert(digest, epochs.auth.clone(), ()),
        }
        Ok(found)
    }
}
