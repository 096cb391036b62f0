//! Values cached under an epoch: an entry is served only while the epoch it was read
//! under is still current, so any change (from any process sharing the database) retires
//! every entry at once, and the next request reads afresh.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Entries beyond this are dropped wholesale: a flush is cheap and keeps memory bounded.
const CAPACITY: usize = 4096;

#[derive(Clone)]
pub struct EpochCache<V> {
    entries: Arc<RwLock<HashMap<String, (String, V)>>>,
}

impl<V> Default for EpochCache<V> {
    fn default() -> Self {
        Self {
            entries: Arc::default(),
        }
    }
}

impl<V: Clone> EpochCache<V> {
    /// The value cached for `key` under exactly this epoch.
    pub fn get(&self, key: &str, epoch: &str) -> Option<V> {
        let entries = self.entries.read().ok()?;
        match entries.get(key) {
            Some((seen, value)) if seen == epoch => Some(value.clone()),
            _ => None,
        }
    }

    /// Remembers a value read under `epoch` (read *before* the value, so a change racing
    /// with the read leaves the entry stale rather than wrong).
    pub fn insert(&self, key: String, epoch: String, value: V) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= CAPACITY {
                entries.clear();
            }
            entries.insert(key, (epoch, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_when_the_epoch_moves() {
        let cache = EpochCache::default();
        cache.insert("k".into(), "e1".into(), 7);
        assert_eq!(cache.get("k", "e1"), Some(7));
        assert_eq!(cache.get("k", "e2"), None);
        assert_eq!(cache.get("other", "e1"), None);
    }
}
