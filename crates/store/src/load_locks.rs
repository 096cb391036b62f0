//! Striped locks taken around a cache load.

use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::Arc;

/// Concurrent misses for the same block of notifiers or the same list query queue behind
/// one load and then find it cached, instead of each reading and building it (a cold cache
/// under load would otherwise do the same work once per waiting request).
#[derive(Clone)]
pub(crate) struct LoadLocks {
    stripes: Arc<[tokio::sync::Mutex<()>; LOAD_STRIPES]>,
    hasher: RandomState,
}

const LOAD_STRIPES: usize = 1024;

impl Default for LoadLocks {
    fn default() -> Self {
        Self {
            stripes: Arc::new(std::array::from_fn(|_| tokio::sync::Mutex::new(()))),
            hasher: RandomState::new(),
        }
    }
}

impl LoadLocks {
    /// Held while loading what `what` names; equal values share a lock.
    pub(crate) async fn lock(&self, what: &impl Hash) -> tokio::sync::MutexGuard<'_, ()> {
        let stripe = self.hasher.hash_one(what) % LOAD_STRIPES as u64;
        self.stripes[stripe as usize].lock().await
    }
}
