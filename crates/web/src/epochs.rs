//! Reading the epochs once for many concurrent requests, without ever answering a
//! request with a value read before it arrived.
//!
//! A request may only use a read that *started after it arrived*: then any change committed
//! before the request began is seen, exactly as if it had read the epoch itself. Under load
//! one read in flight serves every request that queued behind it, so the per-request
//! database round trip of the auth check disappears.

use std::sync::{Arc, Mutex};

use notifier_persistence::DatabaseConnection;
use notifier_persistence::epochs::Epochs;
use tokio::sync::watch;

/// The outcome of read number `seq`: the epochs, or `None` when the read failed.
type Published = (u64, Option<Epochs>);

#[derive(Clone)]
pub struct EpochReader {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    published: watch::Sender<Published>,
}

#[derive(Default)]
struct State {
    /// Number the next read will get.
    next_seq: u64,
    /// A read is running now.
    in_flight: bool,
    /// Someone arrived while it ran and needs the next one.
    queued: bool,
}

impl Default for EpochReader {
    fn default() -> Self {
        let (published, _) = watch::channel((0, None));
        let state = Mutex::new(State {
            next_seq: 1,
            ..State::default()
        });
        Self {
            inner: Arc::new(Inner { state, published }),
        }
    }
}

impl EpochReader {
    /// The epochs as of some moment after this call began.
    pub async fn current(&self, db: &DatabaseConnection) -> notifier_persistence::Result<Epochs> {
        let mut updates = self.inner.published.subscribe();
        // Either lead a read now, or wait for the next one (the running read started
        // before we arrived); decided under the lock, acted on after releasing it.
        let (lead, seq) = {
            let mut state = self.inner.state.lock().unwrap_or_else(|e| e.into_inner());
            let seq = state.next_seq;
            if state.in_flight {
                // The next read gets number `seq`; its runner starts it for us.
                state.queued = true;
                (false, seq)
            } else {
                state.in_flight = true;
                state.next_seq += 1;
                (true, seq)
            }
        };
        if lead {
            return self.lead(db, seq).await;
        }
        let needed = seq;
        loop {
            if let Some(result) = self.outcome_at_least(&mut updates, needed) {
                return result;
            }
            if updates.changed().await.is_err() {
                return notifier_persistence::epochs::current(db).await;
            }
        }
    }

    /// Runs read `seq` for this request; if others queued meanwhile, a background task
    /// keeps reading for them.
    async fn lead(
        &self,
        db: &DatabaseConnection,
        seq: u64,
    ) -> notifier_persistence::Result<Epochs> {
        let mine = notifier_persistence::epochs::current(db).await;
        if let Some(next) = self.publish(seq, mine.as_ref().ok().cloned()) {
            let (reader, db) = (self.clone(), db.clone());
            tokio::spawn(async move {
                let mut seq = next;
                loop {
                    let value = notifier_persistence::epochs::current(&db).await.ok();
                    match reader.publish(seq, value) {
                        Some(next) => seq = next,
                        None => break,
                    }
                }
            });
        }
        mine
    }

    /// Publishes read `seq`; returns the number of the next read when someone is waiting
    /// for one, otherwise marks the reader idle.
    fn publish(&self, seq: u64, value: Option<Epochs>) -> Option<u64> {
        self.inner.published.send_replace((seq, value));
        let mut state = self.inner.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.queued {
            state.queued = false;
            let next = state.next_seq;
            state.next_seq += 1;
            Some(next)
        } else {
            state.in_flight = false;
            None
        }
    }

    fn outcome_at_least(
        &self,
        updates: &mut watch::Receiver<Published>,
        needed: u64,
    ) -> Option<notifier_persistence::Result<Epochs>> {
        let (seq, value) = updates.borrow_and_update().clone();
        if seq < needed {
            return None;
        }
        Some(value.ok_or_else(|| {
            notifier_persistence::Error::Unavailable(notifier_persistence::DbErr::Custom(
                "the auth epoch read failed".into(),
            ))
        }))
    }
}
