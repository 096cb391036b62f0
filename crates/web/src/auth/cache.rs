//! Token → principal cache. Each entry remembers the auth epoch it was read under; any
//! change to users, grants or tokens (from any process sharing the database) moves the
//! epoch, so a request costs one small read instead of three while revocation still
//! takes effect on the very next request, on every instance.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use notifier_domain::Principal;
use notifier_persistence::DatabaseConnection;

use super::epoch::EpochReader;

/// Entries beyond this are dropped wholesale: tokens in use are few, and a flush is cheap.
const CAPACITY: usize = 10_000;

#[derive(Clone, Default)]
pub struct PrincipalCache {
    entries: Arc<RwLock<HashMap<String, (String, Principal)>>>,
    epochs: EpochReader,
}

impl PrincipalCache {
    /// The auth epoch, read no earlier than this call (shared among concurrent callers).
    pub async fn epoch(&self, db: &DatabaseConnection) -> notifier_persistence::Result<String> {
        self.epochs.current(db).await
    }

    /// The principal cached for this key hash under exactly this epoch.
    pub fn get(&self, key_hash: &str, epoch: &str) -> Option<Principal> {
        let entries = self.entries.read().ok()?;
        match entries.get(key_hash) {
            Some((seen, principal)) if seen == epoch => Some(principal.clone()),
            _ => None,
        }
    }

    /// Remembers a principal read under `epoch` (read *before* the lookup, so a change
    /// racing with the lookup leaves the entry stale rather than wrong).
    pub fn insert(&self, key_hash: String, epoch: String, principal: Principal) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= CAPACITY {
                entries.clear();
            }
            entries.insert(key_hash, (epoch, principal));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notifier_domain::User;

    fn principal() -> Principal {
        let user = User {
            id: 1,
            username: "u".into(),
            is_active: true,
            is_staff: true,
            is_admin: false,
        };
        Principal {
            user,
            granted: vec![],
        }
    }

    #[test]
    fn entries_expire_when_the_epoch_moves() {
        let cache = PrincipalCache::default();
        cache.insert("h".into(), "e1".into(), principal());
        assert!(cache.get("h", "e1").is_some());
        assert!(cache.get("h", "e2").is_none());
        assert!(cache.get("other", "e1").is_none());
    }
}
