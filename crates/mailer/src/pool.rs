//! Idle SMTP connections kept per notifier, so that a burst of sends pays for one
//! connect, TLS handshake and AUTH.
//!
//! Not lettre's pooled transport: it hands a used connection back to its pool from a task
//! spawned on drop, so a send that follows at once often opens a second connection; it
//! would also park a connection cut off by our timeout in the middle of a command. Here a
//! connection comes back only after a clean transaction, and synchronously.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use lettre::transport::smtp::client::AsyncSmtpConnection;

use crate::settings::SmtpSettings;

/// Servers drop idle clients after a few minutes (RFC 5321 suggests 5); stay well below.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Concurrent sends for one notifier each need a connection; keep a few of them.
const MAX_IDLE_PER_NOTIFIER: usize = 4;

#[derive(Default)]
pub(crate) struct Pool {
    slots: Mutex<HashMap<i64, Slot>>,
    /// Keyed per process, so the fingerprint of a password is no stable hash of it.
    hasher: RandomState,
}

struct Slot {
    fingerprint: u64,
    idle: Vec<(AsyncSmtpConnection, Instant)>,
}

impl Pool {
    /// Everything that decides what connection the settings make.
    pub(crate) fn fingerprint(&self, s: &SmtpSettings) -> u64 {
        self.hasher
            .hash_one((&s.host, s.port, &s.username, &s.password, s.tls))
    }

    /// A parked connection for these settings, if any. Connections made with other settings
    /// are dropped, and the slot is (re)claimed so that `put` accepts this send's connection.
    pub(crate) fn take(&self, id: i64, fingerprint: u64) -> Option<AsyncSmtpConnection> {
        let mut discarded = Vec::new();
        let found = {
            let mut slots = self.lock();
            let slot = slots.entry(id).or_insert_with(|| Slot {
                fingerprint,
                idle: Vec::new(),
            });
            if slot.fingerprint != fingerprint {
                slot.fingerprint = fingerprint;
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
                    if slot.fingerprint == fingerprint
                        && slot.idle.len() < MAX_IDLE_PER_NOTIFIER =>
                {
                    slot.idle.push((conn, Instant::now()));
                    None
                }
                _ => Some(conn),
            }
        };
        drop(rejected);
    }

    /// Drops every parked connection of a notifier.
    pub(crate) fn forget(&self, id: i64) {
        let removed = self.lock().remove(&id);
        drop(removed);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<i64, Slot>> {
        // The map stays consistent whatever panicked while holding it.
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
