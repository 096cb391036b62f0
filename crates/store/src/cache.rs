//! Values cached under an epoch: an entry is served only while the epoch it was read
//! under is still current, so any change (from any process sharing the database) retires
//! every entry at once, and the next request reads afresh. Memory is bounded by a weight
//! budget; beyond it the least useful entries go (quick_cache's S3-FIFO policy).

use std::hash::Hash;
use std::sync::Arc;

use quick_cache::Weighter;
use quick_cache::sync::Cache;

/// What an entry costs beyond its value (key, epoch, bookkeeping), for weights in bytes.
pub(crate) const ENTRY_OVERHEAD: u64 = 96;

/// An entry's weight (bytes, or 1 to count entries); never zero, which would pin it.
#[derive(Clone)]
pub(crate) struct Weigh<V>(fn(&V) -> u64);

impl<K, E, V> Weighter<K, Entry<E, V>> for Weigh<V> {
    fn weight(&self, _: &K, entry: &Entry<E, V>) -> u64 {
        (self.0)(&entry.1).max(1)
    }
}

/// A value and the epoch it was read under, shared rather than copied on every hit.
type Entry<E, V> = Arc<(E, V)>;

/// `K` names an entry, `E` is the epoch it was read under, `V` the value.
pub(crate) struct EpochCache<K, E, V> {
    entries: Arc<Cache<K, Entry<E, V>, Weigh<V>>>,
}

impl<K, E, V> Clone for EpochCache<K, E, V> {
    fn clone(&self) -> Self {
        Self {
            entries: Arc::clone(&self.entries),
        }
    }
}

impl<K: Hash + Eq + Clone, E, V: Clone> EpochCache<K, E, V> {
    /// A cache of at most `budget` in total weight, `weigh` giving each value's.
    pub fn new(expected_entries: usize, budget: u64, weigh: fn(&V) -> u64) -> Self {
        Self {
            entries: Arc::new(Cache::with_weighter(expected_entries, budget, Weigh(weigh))),
        }
    }

    /// The value cached for `key`, if the epoch it was read under is still `current`.
    pub fn get(&self, key: &K, current: impl FnOnce(&E) -> bool) -> Option<V> {
        let entry = self.entries.get(key)?;
        current(&entry.0).then(|| entry.1.clone())
    }

    /// Weight that can still be added before entries are evicted.
    pub fn room(&self) -> u64 {
        self.entries
            .capacity()
            .saturating_sub(self.entries.weight())
    }

    pub fn remove(&self, key: &K) {
        self.entries.remove(key);
    }

    /// Remembers a value read under `epoch` (read *before* the value, so a change racing
    /// with the read leaves the entry stale rather than wrong).
    pub fn insert(&self, key: K, epoch: E, value: V) {
        self.entries.insert(key, Arc::new((epoch, value)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_when_the_epoch_moves() {
        let cache = EpochCache::new(8, 8, |_: &i32| 1);
        cache.insert("k", "e1", 7);
        assert_eq!(cache.get(&"k", |e| *e == "e1"), Some(7));
        assert_eq!(cache.get(&"k", |e| *e == "e2"), None);
        assert_eq!(cache.get(&"other", |e| *e == "e1"), None);
    }

    #[test]
    fn the_budget_bounds_the_total_weight() {
        let cache = EpochCache::new(16, 1000, |v: &Vec<u8>| v.len() as u64);
        for key in 0..100 {
            cache.insert(key, (), vec![0; 100]);
        }
        let kept = (0..100)
            .filter(|k| cache.get(k, |_| true).is_some())
            .count();
        assert!(
            (1..=10).contains(&kept),
            "{kept} entries of 100 bytes in 1000"
        );
    }
}
