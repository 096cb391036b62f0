//! The time the epoch reader measures staleness by, and deliveries are scheduled by.
//!
//! In service it is the monotonic clock. Tests that change the database behind a server's
//! back (the CLI, a second instance) move this clock past [`crate::MAX_STALENESS`] instead of
//! sleeping: the server then treats every earlier epoch read as too old, exactly as it would
//! once that much real time had passed. The wall clock ([`Clock::utc_now`]) moves with it:
//! what is dated in the database (idempotency keys) ages in tests without a sleep.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Cheap to clone; clones share the offset.
#[derive(Clone, Default)]
pub struct Clock {
    /// Nanoseconds added to the monotonic clock; only [`Clock::advance`] moves it.
    offset: Arc<AtomicU64>,
}

impl Clock {
    pub fn now(&self) -> Instant {
        Instant::now() + Duration::from_nanos(self.offset.load(Ordering::SeqCst))
    }

    /// The wall-clock time with the same offset: what deliveries are scheduled by, so a
    /// test moves a retry's due time closer instead of waiting for it.
    pub fn utc_now(&self) -> chrono::DateTime<chrono::Utc> {
        let offset = chrono::Duration::nanoseconds(
            i64::try_from(self.offset.load(Ordering::SeqCst)).unwrap_or(i64::MAX),
        );
        chrono::Utc::now() + offset
    }

    /// Moves this clock (and every clone) forward: a test hook standing in for a sleep.
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.offset.fetch_add(nanos, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_every_clone() {
        let clock = Clock::default();
        let shared = clock.clone();
        let before = clock.now();
        shared.advance(Duration::from_secs(3600));
        assert!(clock.now() >= before + Duration::from_secs(3600));
    }

    #[test]
    fn the_wall_clock_moves_with_it() {
        let clock = Clock::default();
        let before = chrono::Utc::now();
        clock.advance(Duration::from_secs(3600));
        assert!(clock.utc_now() >= before + chrono::Duration::hours(1));
    }
}
