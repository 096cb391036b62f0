//! Reading the epochs once for many requests, with a small, fixed bound on how old a
//! read a request may be answered with.
//!
//! A request may use a read that started at most [`MAX_STALENESS`] before it arrived:
//! then any change committed that long before the request (by the CLI, or by another
//! instance sharing the database) is seen. Under load one read serves every request in
//! that window, so the per-request database round trip of the auth check disappears.
//! Changes made through this instance are seen at once: the notifier cache is told of
//! each write (`items`), and list pages are kept per [`LocalWrites`] count as well.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use notifier_persistence::epochs::Epochs;
use notifier_persistence::{DatabaseConnection, OwnEpochs};

use crate::Clock;
use crate::items::ItemCache;
use tokio::sync::watch;

/// How long a change made elsewhere may take to reach this instance's caches.
pub const MAX_STALENESS: Duration = Duration::from_millis(5);

/// The outcome of one read: its number, when it started, and the epochs (`None` when the
/// read failed).
#[derive(Clone)]
struct Published {
    seq: u64,
    started: Instant,
    epochs: Option<Arc<Epochs>>,
}

/// What a request does about the epochs it needs.
enum Role {
    /// Run read (number, start) itself.
    Lead((u64, Instant)),
    /// Wait for the read with this number.
    Await(u64),
}

#[derive(Clone)]
pub(crate) struct EpochReader {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    published: watch::Sender<Published>,
    /// Told of every data epoch read, before any request sees it.
    items: ItemCache,
    own: OwnEpochs,
    db: DatabaseConnection,
    clock: Clock,
}

#[derive(Default)]
struct State {
    /// Number the next read will get.
    next_seq: u64,
    /// The read running now: its number and start.
    in_flight: Option<(u64, Instant)>,
    /// Someone arrived while it ran and needs a newer one.
    queued: bool,
}

impl EpochReader {
    pub(crate) fn new(
        db: DatabaseConnection,
        items: ItemCache,
        own: OwnEpochs,
        clock: Clock,
    ) -> Self {
        let (published, _) = watch::channel(Published {
            seq: 0,
            started: clock.now(),
            epochs: None,
        });
        let state = Mutex::new(State {
            next_seq: 1,
            ..State::default()
        });
        Self {
            inner: Arc::new(Inner {
                state,
                published,
                items,
                own,
                db,
                clock,
            }),
        }
    }

    /// The epochs as of some moment no earlier than [`MAX_STALENESS`] before this call.
    pub(crate) async fn current(&self) -> notifier_persistence::Result<Arc<Epochs>> {
        let oldest_usable = self.inner.clock.now().checked_sub(MAX_STALENESS);
        let usable = |started: Instant| oldest_usable.is_some_and(|oldest| started >= oldest);
        let mut updates = self.inner.published.subscribe();
        {
            let last = updates.borrow_and_update();
            if let Some(epochs) = last.epochs.as_ref().filter(|_| usable(last.started)) {
                return Ok(Arc::clone(epochs));
            }
        }
        // Join the running read if it is recent enough, lead one now, or wait for the
        // next; decided under the lock, acted on after releasing it.
        let role = {
            let mut state = self.inner.state.lock().unwrap_or_else(|e| e.into_inner());
            match state.in_flight {
                Some((seq, started)) if usable(started) => Role::Await(seq),
                Some(_) => {
                    // The next read gets number `next_seq`; the running read's task starts it.
                    state.queued = true;
                    Role::Await(state.next_seq)
                }
                None => {
                    let read = (state.next_seq, self.inner.clock.now());
                    state.next_seq += 1;
                    state.in_flight = Some(read);
                    Role::Lead(read)
                }
            }
        };
        let needed = match role {
            Role::Lead((seq, started)) => return self.lead(seq, started).await,
            Role::Await(seq) => seq,
        };
        loop {
            if let Some(result) = Self::outcome_at_least(&mut updates, needed) {
                return result;
            }
            if updates.changed().await.is_err() {
                return self.read().await;
            }
        }
    }

    /// Runs read `seq` for this request; if others queued meanwhile, a background task
    /// keeps reading for them.
    async fn lead(&self, seq: u64, started: Instant) -> notifier_persistence::Result<Arc<Epochs>> {
        let mine = self.read().await;
        if let Some(next) = self.publish(seq, started, mine.as_ref().ok().cloned()) {
            let reader = self.clone();
            tokio::spawn(async move {
                let (mut seq, mut started) = next;
                loop {
                    let epochs = reader.read().await.ok();
                    match reader.publish(seq, started, epochs) {
                        Some(next) => (seq, started) = next,
                        None => break,
                    }
                }
            });
        }
        mine
    }

    /// One read of the epochs; the item cache learns of the data epoch first.
    async fn read(&self) -> notifier_persistence::Result<Arc<Epochs>> {
        // Real time, not the clock: it orders the read against writes' returns.
        let started = Instant::now();
        let epochs = notifier_persistence::epochs::current(&self.inner.db).await?;
        self.inner
            .items
            .observed(epochs.data, started, &self.inner.own)
            .await;
        Ok(Arc::new(epochs))
    }

    /// Publishes read `seq`; when someone is waiting for a newer one, marks it started and
    /// returns its number and start, otherwise marks the reader idle.
    fn publish(
        &self,
        seq: u64,
        started: Instant,
        epochs: Option<Arc<Epochs>>,
    ) -> Option<(u64, Instant)> {
        self.inner.published.send_replace(Published {
            seq,
            started,
            epochs,
        });
        let mut state = self.inner.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.queued {
            state.queued = false;
            let next = (state.next_seq, self.inner.clock.now());
            state.next_seq += 1;
            state.in_flight = Some(next);
            Some(next)
        } else {
            state.in_flight = None;
            None
        }
    }

    fn outcome_at_least(
        updates: &mut watch::Receiver<Published>,
        needed: u64,
    ) -> Option<notifier_persistence::Result<Arc<Epochs>>> {
        let last = updates.borrow_and_update();
        if last.seq < needed {
            return None;
        }
        Some(last.epochs.clone().ok_or_else(|| {
            notifier_persistence::Error::Unavailable(notifier_persistence::DbErr::Custom(
                "the epoch read failed".into(),
            ))
        }))
    }
}

/// Counts the notifier writes this instance made. List pages and id lists are cached under
/// it as well as under the data epoch, so a write shows in this instance's next list at
/// once, without waiting for a fresh epoch read.
#[derive(Clone, Default)]
pub(crate) struct LocalWrites(Arc<AtomicU64>);

impl LocalWrites {
    /// Called after every notifier write, whatever its outcome.
    pub(crate) fn record(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn count(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The state of the data a response was computed from: the database's data epoch and the
/// count of this instance's own writes.
#[derive(Debug, Clone)]
pub(crate) struct DataVersion {
    /// Shared by every entry stored under it, so an entry costs no copy of it.
    epochs: Arc<Epochs>,
    local_writes: u64,
}

impl DataVersion {
    /// Taken before any response is computed, so a racing write leaves an entry stale,
    /// never wrong: the write count first (a write counts once it has committed), then
    /// the epochs.
    pub(crate) async fn now(
        reader: &EpochReader,
        local_writes: &LocalWrites,
    ) -> notifier_persistence::Result<Self> {
        let local_writes = local_writes.count();
        let epochs = reader.current().await?;
        Ok(Self {
            epochs,
            local_writes,
        })
    }
}

impl PartialEq for DataVersion {
    fn eq(&self, other: &Self) -> bool {
        self.local_writes == other.local_writes && self.epochs.data == other.epochs.data
    }
}
