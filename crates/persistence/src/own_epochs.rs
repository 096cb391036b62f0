//! Which data epochs this process's own writes produced.
//!
//! The database moves the data epoch by one for every notifier row written, by anyone. A
//! server that sees the epoch move asks here whether its own writes account for every
//! step: then nothing changed that it has not already applied to its caches itself, and
//! they stay. Any step it cannot account for was written elsewhere (the CLI, another
//! instance) and its caches must be refreshed.
//!
//! Only SQLite's batch writer records ranges, since only there a write learns its exact
//! epoch in its own transaction. Elsewhere nothing is recorded and every step counts as
//! foreign, which is always safe.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

/// How long a check waits for a batch that is committing to record its range, before it
/// counts the unexplained steps as foreign (a batch can wait long for SQLite's lock).
const BATCH_WAIT: Duration = Duration::from_millis(50);

/// Ranges kept at most: a check runs at least this often under load, so older ones have
/// been used; an idle server whose ranges were dropped just refreshes its caches.
const RANGES_KEPT: usize = 4096;

/// Cheap to clone; all clones share the record.
#[derive(Clone)]
pub struct OwnEpochs {
    inner: Arc<Inner>,
}

struct Inner {
    /// Epoch ranges `(before, after]` of committed batches, oldest first.
    ranges: Mutex<VecDeque<(i64, i64)>>,
    /// Counts batch starts and ends: odd while a batch runs.
    batches: watch::Sender<u64>,
}

impl Default for OwnEpochs {
    fn default() -> Self {
        Self {
            inner: Arc::new(Inner {
                ranges: Mutex::new(VecDeque::new()),
                batches: watch::channel(0).0,
            }),
        }
    }
}

impl OwnEpochs {
    /// A batch is about to run.
    pub(crate) fn batch_started(&self) {
        self.inner.batches.send_modify(|count| *count += 1);
    }

    /// The batch ended; `range` is what it committed (`None` when it failed).
    pub(crate) fn batch_ended(&self, range: Option<(i64, i64)>) {
        if let Some((before, after)) = range.filter(|(before, after)| after > before) {
            let mut ranges = self.ranges();
            ranges.push_back((before, after));
            if ranges.len() > RANGES_KEPT {
                ranges.pop_front();
            }
        }
        self.inner.batches.send_modify(|count| *count += 1);
    }

    /// Whether this process's own batches wrote every epoch step in `(from, to]`. Call it
    /// after reading `to`: a batch that committed before that read but has not recorded
    /// its range yet is waited for (briefly).
    pub async fn wrote_all(&self, from: i64, to: i64) -> bool {
        let mut batches = self.inner.batches.subscribe();
        let running = *batches.borrow_and_update();
        let mut covered = self.covered(from, to);
        if !covered && running % 2 == 1 {
            let ended = tokio::time::timeout(BATCH_WAIT, batches.changed()).await;
            covered = matches!(ended, Ok(Ok(()))) && self.covered(from, to);
        }
        // Checks move forwards: no later one needs what ends by `to`.
        let mut ranges = self.ranges();
        while ranges.front().is_some_and(|&(_, after)| after <= to) {
            ranges.pop_front();
        }
        covered
    }

    /// Whether the recorded ranges cover `(from, to]` without a gap.
    fn covered(&self, from: i64, to: i64) -> bool {
        let ranges = self.ranges();
        let mut reached = from;
        for &(before, after) in ranges.iter() {
            if after <= reached {
                continue;
            }
            if before > reached || reached >= to {
                break;
            }
            reached = after;
        }
        reached >= to
    }

    fn ranges(&self) -> std::sync::MutexGuard<'_, VecDeque<(i64, i64)>> {
        self.inner.ranges.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(ranges: &[(i64, i64)]) -> OwnEpochs {
        let own = OwnEpochs::default();
        for &range in ranges {
            own.batch_started();
            own.batch_ended(Some(range));
        }
        own
    }

    #[tokio::test]
    async fn contiguous_own_batches_account_for_the_steps() {
        let own = with(&[(10, 12), (12, 15)]);
        assert!(own.wrote_all(10, 15).await);
        assert!(own.wrote_all(15, 15).await, "no step at all");
    }

    #[tokio::test]
    async fn a_gap_between_own_batches_is_someone_else() {
        assert!(!with(&[(10, 12), (13, 15)]).wrote_all(10, 15).await);
        assert!(!with(&[(10, 12)]).wrote_all(10, 13).await);
        assert!(!with(&[(11, 12)]).wrote_all(10, 12).await);
        assert!(!OwnEpochs::default().wrote_all(1, 2).await);
    }

    #[tokio::test]
    async fn a_check_may_start_inside_a_batch_range() {
        let own = with(&[(10, 20)]);
        assert!(own.wrote_all(14, 18).await);
    }

    /// Starts a batch that records `range` a little later, as a commit in flight does.
    fn committing(own: &OwnEpochs, range: (i64, i64)) {
        own.batch_started();
        let recorder = own.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            recorder.batch_ended(Some(range));
        });
    }

    #[tokio::test]
    async fn a_committing_batch_is_waited_for() {
        let own = OwnEpochs::default();
        committing(&own, (3, 4));
        assert!(own.wrote_all(3, 4).await);
    }

    #[tokio::test]
    async fn ranges_recorded_before_a_committing_batch_still_count() {
        let own = with(&[(10, 12)]);
        committing(&own, (12, 15));
        assert!(own.wrote_all(10, 15).await);
    }

    #[tokio::test]
    async fn a_failed_batch_accounts_for_nothing() {
        let own = OwnEpochs::default();
        own.batch_started();
        own.batch_ended(None);
        assert!(!own.wrote_all(3, 4).await);
    }
}
