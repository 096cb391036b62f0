//! Opening the store: the database's reading and writing sides and every cache over them.

use std::sync::Arc;

use notifier_persistence::{DatabaseConnection, NotReady, SecretBox, Writer};

use crate::epochs::EpochReader;
use crate::items::ItemCache;
use crate::notifiers::Parts;
use crate::sending::{SendingCache, SendingSettings};
use crate::{
    AuditStore, AuthenticationStore, CacheCounters, ChangeHooks, Clock, DeliveryStore, DkimStore,
    Idempotency, NotifierStore, Principals, Render,
};

/// What [`Store::open`] needs.
pub struct StoreOptions {
    pub db: DatabaseConnection,
    pub secrets: SecretBox,
    /// How notifiers look in responses.
    pub render: Arc<dyn Render>,
    /// What notifier bodies, list pages and list id sets may hold in all, in bytes (split
    /// 8 : 4 : 1; 0 keeps nothing). Tokens are counted apart: a few hundred kB.
    pub cache_bytes: u64,
    /// Where the notifier cache counts hits, loads and retirements.
    pub counters: CacheCounters,
    /// Told of every notifier write.
    pub hooks: ChangeHooks,
    pub clock: Clock,
    /// How long an idempotent request may run before its key is presumed abandoned.
    pub idempotency_abandon_after: std::time::Duration,
}

/// Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Store {
    pub notifiers: NotifierStore,
    pub authentication: AuthenticationStore,
    pub deliveries: DeliveryStore,
    pub dkim: DkimStore,
    pub principals: Principals,
    pub idempotency: Idempotency,
    pub audit: AuditStore,
    sending: SendingCache,
    db: DatabaseConnection,
}

impl Store {
    /// Starts the writer (on SQLite, its own connection) and builds the
    /// caches, empty.
    pub async fn open(options: StoreOptions) -> crate::Result<Self> {
        let db = options.db;
        let writer = Writer::start(db.clone()).await?;
        let share = |parts: u64| options.cache_bytes / 13 * parts;
        let items = ItemCache::new(options.counters, share(8));
        let idempotency = Idempotency::new(
            db.clone(),
            options.secrets.clone(),
            options.clock.clone(),
            options.idempotency_abandon_after,
        );
        let epochs = EpochReader::new(
            db.clone(),
            items.clone(),
            writer.own_epochs().clone(),
            options.clock.clone(),
        );
        let audit = AuditStore::new(db.clone(), writer.clone(), options.clock.clone());
        let deliveries = DeliveryStore::new(
            db.clone(),
            writer.clone(),
            options.secrets.clone(),
            options.clock.clone(),
        );
        let sending = SendingCache::new(db.clone(), options.secrets.clone(), epochs.clone());
        let authentication = AuthenticationStore::new(
            db.clone(),
            options.secrets.clone(),
            options.hooks.clone(),
            sending.clone(),
        );
        let dkim = DkimStore::new(db.clone(), options.secrets.clone(), sending.clone());
        let notifiers = NotifierStore::new(Parts {
            db: db.clone(),
            writer,
            secrets: options.secrets,
            render: options.render,
            epochs: epochs.clone(),
            items,
            hooks: options.hooks,
            pages_budget: share(4),
            selections_budget: share(1),
        });
        Ok(Self {
            notifiers,
            authentication,
            deliveries,
            dkim,
            principals: Principals::new(db.clone(), epochs, options.clock),
            idempotency,
            audit,
            sending,
            db,
        })
    }

    /// How a send through `notifier_id` (just read) logs in and signs.
    pub async fn sending_settings(&self, notifier_id: i64) -> crate::Result<Arc<SendingSettings>> {
        self.sending.get(notifier_id).await
    }

    /// Whether the database answers and takes writes (`/readyz`); why not, when not.
    pub async fn ready(&self) -> Result<(), NotReady> {
        notifier_persistence::ready(&self.db).await
    }

    /// Open and idle database connections, for the metrics endpoint.
    pub fn pool_stats(&self) -> (u32, usize) {
        notifier_persistence::pool_stats(&self.db)
    }
}
