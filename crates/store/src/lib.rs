//! # The store: one owner of the notifier data path
//!
//! Read this first. Every read and write of notifier data made by the HTTP layer goes
//! through [`Store`]; nothing else touches the caches, the epochs or the writer. A handler
//! extracts, authorizes, calls the store and maps the result.
//!
//! ```text
//!  web handlers ──► Store ─┬─ notifiers: NotifierStore  get · page · create · update · delete
//!                          │     ├─ items      each notifier's response body, until it changes
//!                          │     ├─ pages      list pages by URL, under a DataVersion
//!                          │     ├─ selections a query's ordered ids, under a DataVersion
//!                          │     ├─ writer     persistence::Writer (SQLite: group commit)
//!                          │     └─ hooks      told of every write (the mailer forgets its
//!                          │                   pooled connections for that notifier)
//!                          ├─ authentication   how each notifier logs in: get · put ·
//!                          │                   for_sending · rotate_refresh_token
//!                          │                   (uncached; not a notifier write)
//!                          ├─ deliveries       the outbox's rows: create · claim · record ·
//!                          │                   get · page · retry · cancel · purge (uncached:
//!                          │                   every attempt changes them)
//!                          ├─ dkim             each notifier's DKIM settings (uncached; never
//!                          │                   touches the notifier row or its caches)
//!                          ├─ principals       token → principal, under the auth epoch;
//!                          │                   expiry checked per request, last use
//!                          │                   written off the request path
//!                          ├─ audit            the audit log: page · append · prune (each
//!                          │                   write above appends its own record in its
//!                          │                   own transaction)
//!                          ├─ idempotency      Idempotency-Key claims and kept answers
//!                          │                   (database only: they must hold across instances)
//!                          └─ EpochReader      one epoch read serves every request for 5 ms
//! ```
//!
//! ## Why a cached answer is never wrong
//!
//! The database keeps two *epochs* (see `notifier_persistence::epochs`): the **auth epoch**
//! moves with any user, grant or token change; the **data epoch** moves with every notifier
//! row written, by anyone (a trigger). The epoch reader (`epochs.rs`) reads both at most once
//! per [`MAX_STALENESS`] (5 ms) for all concurrent requests, so a change made elsewhere
//! (the CLI, another instance) is seen by any request that starts 5 ms after it committed.
//!
//! - **Principals** are kept under the auth epoch they were read at.
//! - **List pages and id lists** are kept under a `DataVersion`: the data epoch plus the
//!   count of this instance's own writes, so a write here shows in the next list at once.
//! - **Notifier bodies** (`items`) are stamped with a data epoch. A write through the store
//!   replaces or drops exactly that notifier's body. When the data epoch moves by steps this
//!   instance's own writes do not account for, every body stamped before is retired. A load
//!   racing a write never stores the old row over the new one (write marks, `items.rs`).
//!
//! Why did my PATCH not show in the list? It did: [`NotifierStore::update`] updates the item
//! cache, then moves the local write count, which retires every list page and id list cached
//! before it (`notifiers/writes.rs`, the only place writes happen).
//!
//! ## The data epoch without a hot row (PostgreSQL)
//!
//! On SQLite one connection writes, in group-committed batches that read the epoch inside
//! their own transaction; a single counter row costs nothing there. On PostgreSQL, where many
//! instances write at once, a single counter row would serialize every notifier write in
//! the cluster on its row lock (measured: creates capped at ~1,500/s). There the data epoch
//! is the **sum of 64 striped counters** (`data_epoch_stripes`): a statement trigger adds 1
//! to the stripe its transaction's id picks (`txid_current() % 64`), so concurrent writes,
//! which get consecutive ids, rarely wait for each other, a transaction that writes twice
//! uses one stripe (no lock-order deadlock), and readers read the sum in the same single
//! query as the auth epoch. The sum keeps every property the caches rely on: each committed
//! write raises it, a later snapshot never sees a smaller sum, and a snapshot that misses a
//! commit sees a smaller sum than one that includes it.
//!
//! A PostgreSQL write does not read the epoch back (a second round trip and a scan of the
//! stripes, per write): it reports `WriteEpoch::Committed`, and the item cache keeps that
//! notifier out until the first epoch read that *started after the write returned* gives it
//! an epoch (`items.rs`, pending marks). Measured (`bench/run.sh --db`): creates went from
//! ~1,500/s to ~3,000/s, p99 from ~90 ms to ~40 ms. Alternatives considered:
//! LISTEN/NOTIFY takes a database-wide lock at commit for every notifying transaction (the
//! same serialization, moved); a sequence-numbered change log is not commit-ordered, so a
//! reader would need snapshot bookkeeping (`pg_current_snapshot`) to avoid skipping a
//! late-committing change; per-row versions checked on read cost a query per request,
//! which is what the caches exist to avoid.
//!
//! ## Adding a resource
//!
//! A new cached resource gets a module like `notifiers/`: a struct built in [`Store::open`]
//! that owns its caches and its writes, with the same shape of interface (read returning
//! response bytes, writes that update the caches and call the change hooks themselves).

mod audit;
mod authentication;
mod cache;
mod clock;
mod counters;
mod deliveries;
mod dkim;
mod epochs;
mod error;
mod hooks;
mod idempotency;
mod items;
mod load_locks;
mod notifiers;
mod principals;
mod render;
mod sending;
mod store;
mod token_use;

pub use audit::AuditStore;
pub use authentication::AuthenticationStore;
pub use clock::Clock;
pub use counters::CacheCounters;
pub use deliveries::DeliveryStore;
pub use dkim::DkimStore;
pub use epochs::MAX_STALENESS;
pub use error::{Error, Result};
pub use hooks::ChangeHooks;
pub use idempotency::{Begun, Guard, Idempotency};
pub use notifier_persistence::NotReady;
/// The outbox's row types, for the delivery workers.
pub use notifier_persistence::deliveries::{
    Claimed, Content, NewDelivery, Outcome, Recipients, Stats as DeliveryStats,
};
pub use notifiers::{Created, NotifierStore};
pub use principals::{Principals, TokenCheck};
pub use render::{PageParts, Render};
pub use sending::SendingSettings;
pub use store::{Store, StoreOptions};
