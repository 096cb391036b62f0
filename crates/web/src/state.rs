//! What every handler shares, built once at start-up and cloned into each worker.

use notifier_mailer::Mailer;

use crate::Metrics;
use actix_web::web::Bytes;
use notifier_domain::{ListQuery, Principal};

use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::Arc;

use crate::cache::{ENTRY_OVERHEAD, EpochCache};
use crate::epochs::{EpochReader, LocalWrites};
use crate::handlers::DataVersion;
use crate::items::ItemCache;
use notifier_persistence::{DatabaseConnection, OwnEpochs, SecretBox, Writer};

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// Notifier writes go through here (batched commits on SQLite).
    pub writer: Writer,
    pub secrets: SecretBox,
    /// Return stored passwords instead of the mask (§6), for clients that depend on it.
    pub expose_passwords: bool,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// How long a request body may take to arrive (`server.body_timeout_secs`).
    pub body_timeout: std::time::Duration,
    /// Link bases, trusted proxies and allowed hosts.
    pub origin: crate::OriginPolicy,
    /// Failed authentications per client.
    pub auth_throttle: crate::AuthThrottle,
    /// `server.metrics_token`: when set, `/metrics` wants it as a bearer token.
    pub metrics_token: Option<String>,
    /// SMTP delivery, with its per-notifier connection pool.
    pub mailer: Mailer,
    pub metrics: Metrics,
    /// Token lookups and read responses, valid while their epochs are current.
    pub caches: Caches,
}

/// Everything cached per instance, all keyed by the database's epochs.
#[derive(Clone)]
pub struct Caches {
    pub epochs: EpochReader,
    /// Notifier writes made here, so this instance sees its own writes at once.
    pub local_writes: LocalWrites,
    /// Token digest → principal, under the auth epoch.
    pub principals: EpochCache<[u8; 32], String, Arc<Principal>>,
    /// Digests of tokens that matched no one, under the auth epoch (a new token moves it):
    /// repeating a wrong token costs no database query. Apart from `principals`, so a
    /// flood of made-up tokens cannot evict the real ones.
    pub unknown_tokens: EpochCache<[u8; 32], String, ()>,
    /// Each notifier's serialized body, until that notifier changes.
    pub items: ItemCache,
    /// Serialized list pages (by full URL, since the body's links carry it), under the
    /// data epoch and the local write count.
    pub pages: EpochCache<String, DataVersion, Bytes>,
    /// Misses that would load the same thing wait for one load.
    pub loads: LoadLocks,
    /// A list query's ordered ids (page fields blanked), under the same version.
    pub selections: EpochCache<ListQuery, DataVersion, Arc<Vec<i64>>>,
}

/// Tokens remembered at most (each a few hundred bytes).
const PRINCIPALS_KEPT: u64 = 4096;
/// Wrong tokens remembered at most (each about 130 bytes).
const UNKNOWN_TOKENS_KEPT: u64 = 8192;

impl Caches {
    /// `own`: the epochs this instance's writes produce, so they do not retire its caches;
    /// `metrics`: where the notifier cache counts hits, loads and retirements;
    /// `max_bytes`: what the notifier bodies, list pages and list id sets may hold in all
    /// (split 8 : 4 : 1; 0 keeps nothing). Tokens are counted apart: a few hundred kB.
    pub fn new(own: OwnEpochs, metrics: &Metrics, max_bytes: u64) -> Self {
        let share = |parts: u64| max_bytes / 13 * parts;
        let items = ItemCache::new(metrics.cache_counters(), share(8));
        Self {
            epochs: EpochReader::new(items.clone(), own),
            items,
            loads: LoadLocks::default(),
            local_writes: LocalWrites::default(),
            principals: EpochCache::new(PRINCIPALS_KEPT as usize, PRINCIPALS_KEPT, |_| 1),
            unknown_tokens: EpochCache::new(
                UNKNOWN_TOKENS_KEPT as usize,
                UNKNOWN_TOKENS_KEPT,
                |_| 1,
            ),
            pages: EpochCache::new(1024, share(4), |body: &Bytes| {
                body.len() as u64 + ENTRY_OVERHEAD
            }),
            selections: EpochCache::new(64, share(1), |ids: &Arc<Vec<i64>>| {
                8 * ids.len() as u64 + ENTRY_OVERHEAD
            }),
        }
    }
}

/// Striped locks taken around a cache load: concurrent misses for the same block of
/// notifiers or the same list query queue behind one load and then find it cached,
/// instead of each reading and building it (a cold cache under load would otherwise do
/// the same work once per waiting request).
#[derive(Clone)]
pub struct LoadLocks {
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
    pub async fn lock(&self, what: &impl Hash) -> tokio::sync::MutexGuard<'_, ()> {
        let stripe = self.hasher.hash_one(what) % LOAD_STRIPES as u64;
        self.stripes[stripe as usize].lock().await
    }
}
