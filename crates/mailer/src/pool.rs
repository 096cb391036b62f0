//! Idle SMTP connections kept per notifier, so that a burst of sends pays for one
//! connect, TLS handshake and AUTH; and a bound on how many one notifier may have open, so
//! a burst beyond it waits for a connection instead of opening (and authenticating) more.
//!
//! Not lettre's pooled transport: it hands a used connection back to its pool from a task
//! spawned on drop, so a send that follows at once often opens a second connection; it
//! would also park a connection cut off by our timeout in the middle of a command. Here a
//! connection comes back only after a clean transaction, and synchronously.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use lettre::transport::smtp::client::AsyncSmtpConnection;
use tokio::sync::Semaphore;

use crate::settings::SmtpSettings;

/// Servers drop idle clients after a few minutes (RFC 5321 suggests 5); stay well below.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
pub(crate) struct Pool {
    slots: Mutex<HashMap<i64, Slot>>,
    /// Keyed per process, so the fingerprint of a password is no stable hash of it.
    hasher: RandomState,
    /// Connections one notifier may have open (in use or parked).
    max_per_notifier: usize,
}

struct Slot {
    /// The settings the parked connections were made with; `None` before any.
    fingerprint: Option<u64>,
    idle: Vec<(AsyncSmtpConnection, Instant)>,
    /// One permit per connection this notifier may have open.
    permits: Arc<Semaphore>,
}

impl Pool {
    pub(crate) fn new(max_per_notifier: usize) -> Self {
        Self {
            slots: Mutex::default(),
            hasher: RandomState::new(),
            max_per_notifier: max_per_notifier.max(1),
        }
    }

    /// The permits of this notifier's connections: hold one while using a connection.
    pub(crate) fn permits(&self, id: i64) -> Arc<Semaphore> {
        let mut slots = self.lock();
        Arc::clone(&self.slot(&mut slots, id).permits)
    }

    /// Everything that decides what connection the settings make.
    pub(crate) fn fingerprint(&self, s: &SmtpSettings) -> u64 {
        self.hasher
            .hash_one((&s.host, s.port, &s.username, &s.password, &s.auth, s.tls))
    }

    /// A parked connection for these settings, if any. Connections made with other settings
    /// are dropped, and the slot is (re)claimed so that `put` accepts this send's connection.
    pub(crate) fn take(&self, id: i64, fingerprint: u64) -> Option<AsyncSmtpConnection> {
        let mut discarded = Vec::new();
        let found = {
            let mut slots = self.lock();
            let slot = self.slot(&mut slots, id);
            if slot.fingerprint != Some(fingerprint) {
                slot.fingerprint = Some(fingerprint);
                discarded.append(&mut slot.idle);
            }
            let mut found = None;
            while let Some((conn, since)) = slot.idle.pop() {
                if since.elapsed() < IDLE_TIMEOUT {
                    found = Some(conn);
                    break;
                }
                discarded.push((conn, since));
            }
            found
        };
        // Dropped outside the lock: closing sockets is no reason to make other sends wait.
        drop(discarded);
        found
    }

    /// Parks a connection after a clean transaction. It is dropped instead when the notifier
    /// was forgotten or its settings changed meanwhile, or when enough are parked.
    pub(crate) fn put(&self, id: i64, fingerprint: u64, conn: AsyncSmtpConnection) {
        let rejected = {
            let mut slots = self.lock();
            match slots.get_mut(&id) {
                Some(slot)
                    if slot.fingerprint == Some(fingerprint)
                        && slot.idle.len() < self.max_per_notifier =>
                {
                    slot.idle.push((conn, Instant::now()));
                    None
                }
                _ => Some(conn),
            }
        };
        drop(rejected);
    }

    /// Drops every parked connection of a notifier. Its permits stay while sends hold
    /// some, so the bound holds across a change of settings too.
    pub(crate) fn forget(&self, id: i64) {
        let removed = {
            let mut slots = self.lock();
            let in_use = slots
                .get(&id)
                .is_some_and(|slot| slot.permits.available_permits() < self.max_per_notifier);
            if in_use {
                slots.get_mut(&id).map(|slot| {
                    slot.fingerprint = None;
                    std::mem::take(&mut slot.idle)
                })
            } else {
                slots.remove(&id).map(|slot| slot.idle)
            }
        };
        drop(removed);
    }

    fn slot<'a>(&self, slots: &'a mut HashMap<i64, Slot>, id: i64) -> &'a mut Slot {
        slots.entry(id).or_insert_with(|| Slot {
            fingerprint: None,
            idle: Vec::new(),
            permits: Arc::new(Semaphore::new(self.max_per_notifier)),
        })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<i64, Slot>> {
        // The map stays consistent whatever panicked while holding it.
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
