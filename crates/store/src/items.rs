//! Serialized notifiers, each kept until that notifier changes.
//!
//! Every body is stamped with a data epoch: a loaded body with the epoch this instance
//! knew to be committed when the load began (the rows it read are at least that new), a
//! written body with the exact epoch of its write (SQLite). A write whose epoch was not
//! read (PostgreSQL) drops the body and is *pending*: loads skip that notifier until an
//! epoch read that started after the write gives it an epoch. A change made through this instance
//! replaces (or, for a delete, drops) just that notifier's body. A change made elsewhere
//! (the CLI, another instance) is noticed when the epoch reader finds steps in the data
//! epoch that this instance's own writes do not account for; then every body stamped
//! before the epoch read is stale (the *floor* rises).
//!
//! A load that began before a write may finish after it with the old row. Loads therefore
//! store their bodies under the same lock that writes take, and skip a notifier written
//! at a later epoch than their stamp. Those marks are dropped once no load older than
//! them runs.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bytes::Bytes;
use notifier_persistence::{OwnEpochs, WriteEpoch, notifiers};

use crate::cache::{ENTRY_OVERHEAD, EpochCache};
use crate::counters::CacheCounters;

/// What a block read ahead is assumed to weigh: bodies of up to 1 KiB each.
const BLOCK_ROOM: u64 = notifiers::BLOCK as u64 * 1024;
/// Write marks kept before the ones no running load needs are dropped.
const MARKS_BEFORE_PRUNING: usize = 4096;
/// Marks a notifier whose last write has an unknown outcome: never cached again.
const UNKNOWN: i64 = i64::MAX;
/// Marks a notifier written at an epoch not known yet (see [`Marks::pending`]).
const PENDING: i64 = i64::MAX - 1;

/// Cheap to clone; clones share everything.
#[derive(Clone)]
pub(crate) struct ItemCache {
    bodies: EpochCache<i64, i64, Bytes>,
    inner: Arc<Inner>,
    counters: CacheCounters,
}

struct Inner {
    /// The highest data epoch this instance knows is committed.
    known: AtomicI64,
    /// Bodies stamped before this may miss a change made elsewhere.
    floor: AtomicI64,
    marks: Mutex<Marks>,
    /// The data epoch the last read was checked at; `None` before the first.
    checked: tokio::sync::Mutex<Option<i64>>,
}

#[derive(Default)]
struct Marks {
    /// Notifier id → epoch of its latest write through this instance.
    written: HashMap<i64, i64>,
    /// Stamps of the loads running now, with how many run under each.
    loading: BTreeMap<i64, usize>,
    /// Notifiers marked [`PENDING`], with when their latest write returned: the first
    /// epoch read that starts after that includes the write and gives the mark its epoch.
    pending: HashMap<i64, Instant>,
}

impl ItemCache {
    /// Keeps at most `budget` bytes of bodies. A 100,000-notifier table takes about 60 MB;
    /// the cache is split in shards that each get an equal part, so it needs room to spare.
    pub fn new(counters: CacheCounters, budget: u64) -> Self {
        Self {
            counters,
            bodies: EpochCache::new(16_384, budget, |body: &Bytes| {
                body.len() as u64 + ENTRY_OVERHEAD
            }),
            inner: Arc::new(Inner {
                known: AtomicI64::new(0),
                floor: AtomicI64::new(0),
                marks: Mutex::default(),
                checked: tokio::sync::Mutex::new(None),
            }),
        }
    }

    /// The notifier's body, if one is kept and nothing has changed it since.
    pub fn get(&self, id: i64) -> Option<Bytes> {
        let floor = self.inner.floor.load(Ordering::SeqCst);
        let body = self.bodies.get(&id, |stamp| *stamp >= floor);
        if body.is_some() {
            self.counters.hits.inc();
        }
        body
    }

    /// Whether a whole block of neighbours read ahead would still fit. When it would not
    /// (a table larger than `cache.max_memory_mb` allows, or caching off), reading ahead
    /// only evicts bodies for rows nobody asked for, and a miss should read just its row.
    pub fn has_room_for_a_block(&self) -> bool {
        self.bodies.room() >= BLOCK_ROOM
    }

    /// Starts a load from the database; keep what it read with [`Load::keep`].
    pub fn start_load(&self) -> Load<'_> {
        let mut marks = self.marks();
        let stamp = self.inner.known.load(Ordering::SeqCst);
        *marks.loading.entry(stamp).or_default() += 1;
        self.counters.loads.inc();
        Load { cache: self, stamp }
    }

    /// A notifier was written through this instance, committed at `epoch`; `body` is what
    /// it now is (`None` after a delete).
    pub fn wrote(&self, id: i64, epoch: WriteEpoch, body: Option<Bytes>) {
        match epoch {
            WriteEpoch::Exact(at) => {
                self.inner.known.fetch_max(at, Ordering::SeqCst);
                self.mark(id, at, body);
            }
            WriteEpoch::Committed => {
                let mut marks = self.marks();
                if marks.written.get(&id) != Some(&UNKNOWN) {
                    marks.written.insert(id, PENDING);
                    marks.pending.insert(id, Instant::now());
                }
                self.bodies.remove(&id);
            }
        }
    }

    /// Marks notifier `id` written at `at`, with `body` as it now is (`None`: not cached).
    fn mark(&self, id: i64, at: i64, body: Option<Bytes>) {
        let mut marks = self.marks();
        let mark = marks.written.entry(id).or_insert(at);
        if *mark > at {
            // A later write of this notifier (same batch, say) got here first.
            return;
        }
        *mark = at;
        marks.pending.remove(&id);
        match body {
            Some(body) => self.bodies.insert(id, at, body),
            None => self.bodies.remove(&id),
        }
        self.prune(&mut marks);
    }

    /// A write whose outcome is unknown (it may have committed): the notifier is not
    /// cached again by this process.
    pub fn wrote_unknown(&self, id: i64) {
        self.mark(id, UNKNOWN, None);
    }

    /// Called by the epoch reader with each data epoch it read (a read that started at
    /// `read_started`), before requests see it.
    pub async fn observed(&self, data: i64, read_started: Instant, own: &OwnEpochs) {
        self.settle_pending(data, read_started);
        let mut checked = self.inner.checked.lock().await;
        match *checked {
            Some(last) if data == last => {}
            Some(last) if data > last => {
                if !own.wrote_all(last, data).await {
                    self.inner.floor.fetch_max(data, Ordering::SeqCst);
                    self.counters.retirements.inc();
                }
            }
            Some(last) => {
                // Fewer writes than before: the database was replaced or restored.
                // Stamps no longer order anything; stop trusting every body. Every later
                // read lands here too (`checked` keeps the highest epoch): say it once.
                if self.inner.floor.swap(UNKNOWN, Ordering::SeqCst) != UNKNOWN {
                    log::warn!(
                        "the data epoch went back from {last} to {data}: notifier caching is off until restart"
                    );
                }
            }
            None => {
                self.inner.floor.fetch_max(data, Ordering::SeqCst);
            }
        }
        self.inner.known.fetch_max(data, Ordering::SeqCst);
        *checked = Some(checked.map_or(data, |last| last.max(data)));
    }

    /// Writes that returned before `read_started` are in the epoch `data` that read found.
    fn settle_pending(&self, data: i64, read_started: Instant) {
        let mut marks = self.marks();
        if marks.pending.is_empty() {
            return;
        }
        let settled: Vec<i64> = marks
            .pending
            .iter()
            .filter(|(_, returned)| **returned < read_started)
            .map(|(id, _)| *id)
            .collect();
        for id in settled {
            marks.pending.remove(&id);
            if let Some(mark) = marks.written.get_mut(&id)
                && *mark == PENDING
            {
                *mark = data;
            }
        }
    }

    fn marks(&self) -> MutexGuard<'_, Marks> {
        self.inner.marks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Drops the marks no running load can need: a load stamped at or after a mark began
    /// once that write was known, so it read the new row.
    fn prune(&self, marks: &mut Marks) {
        if marks.written.len() < MARKS_BEFORE_PRUNING {
            return;
        }
        let oldest_load = marks
            .loading
            .first_key_value()
            .map_or(i64::MAX, |(stamp, _)| *stamp);
        marks
            .written
            .retain(|_, at| *at == UNKNOWN || *at > oldest_load);
    }
}

/// A load in progress; its stamp is released when it is dropped.
pub(crate) struct Load<'a> {
    cache: &'a ItemCache,
    stamp: i64,
}

impl Load<'_> {
    /// Keeps the bodies read, except those written through this instance after the load
    /// began (the load may hold their old rows).
    pub fn keep(&self, bodies: impl IntoIterator<Item = (i64, Bytes)>) {
        let marks = self.cache.marks();
        for (id, body) in bodies {
            if marks.written.get(&id).is_none_or(|at| *at <= self.stamp) {
                self.cache.bodies.insert(id, self.stamp, body);
            }
        }
    }
}

impl Drop for Load<'_> {
    fn drop(&mut self) {
        let mut marks = self.cache.marks();
        if let Some(count) = marks.loading.get_mut(&self.stamp) {
            *count -= 1;
            if *count == 0 {
                marks.loading.remove(&self.stamp);
            }
        }
        self.cache.prune(&mut marks);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(text: &'static str) -> Bytes {
        Bytes::from_static(text.as_bytes())
    }

    fn cache() -> ItemCache {
        ItemCache::new(CacheCounters::new().expect("valid metric names"), 1 << 20)
    }

    #[test]
    fn blocks_are_read_ahead_only_while_they_fit() {
        let counters = || CacheCounters::new().expect("valid metric names");
        assert!(cache().has_room_for_a_block());
        assert!(!ItemCache::new(counters(), 0).has_room_for_a_block());
        let small = ItemCache::new(counters(), 2 * BLOCK_ROOM);
        assert!(small.has_room_for_a_block());
        let filler = Bytes::from(vec![b'x'; 1024]);
        small
            .start_load()
            .keep((0..2 * notifiers::BLOCK).map(|id| (id, filler.clone())));
        assert!(!small.has_room_for_a_block());
    }

    #[test]
    fn a_write_replaces_the_body_and_a_delete_drops_it() {
        let items = cache();
        items
            .start_load()
            .keep([(1, body("old")), (2, body("two"))]);
        items.wrote(1, WriteEpoch::Exact(5), Some(body("new")));
        assert_eq!(items.get(1), Some(body("new")));
        items.wrote(2, WriteEpoch::Exact(6), None);
        assert_eq!(items.get(2), None);
    }

    #[test]
    fn a_late_report_of_an_earlier_write_changes_nothing() {
        let items = cache();
        items.wrote(1, WriteEpoch::Exact(6), Some(body("second")));
        items.wrote(1, WriteEpoch::Exact(5), Some(body("first")));
        assert_eq!(items.get(1), Some(body("second")));
    }

    #[test]
    fn a_load_that_began_before_a_write_does_not_bring_the_old_row_back() {
        let items = cache();
        let load = items.start_load();
        items.wrote(1, WriteEpoch::Exact(5), Some(body("new")));
        items.wrote(2, WriteEpoch::Exact(6), None);
        load.keep([(1, body("old")), (2, body("deleted")), (3, body("three"))]);
        assert_eq!(items.get(1), Some(body("new")));
        assert_eq!(items.get(2), None);
        assert_eq!(items.get(3), Some(body("three")));
    }

    #[tokio::test]
    async fn a_write_of_unread_epoch_is_cached_again_after_an_epoch_read_that_follows_it() {
        let items = cache();
        let own = OwnEpochs::default();
        items.observed(5, Instant::now(), &own).await;
        items.start_load().keep([(1, body("old"))]);
        let before_the_write = Instant::now();
        items.wrote(1, WriteEpoch::Committed, Some(body("new")));
        assert_eq!(items.get(1), None);
        items.start_load().keep([(1, body("maybe old"))]);
        assert_eq!(
            items.get(1),
            None,
            "loads skip it while its epoch is unknown"
        );

        items.observed(6, before_the_write, &own).await;
        items.start_load().keep([(1, body("maybe old"))]);
        assert_eq!(
            items.get(1),
            None,
            "a read that began before the write says nothing"
        );

        let after_the_write = Instant::now() + std::time::Duration::from_millis(1);
        items.observed(7, after_the_write, &own).await;
        items.start_load().keep([(1, body("reread"))]);
        assert_eq!(items.get(1), Some(body("reread")));
    }

    #[tokio::test]
    async fn an_unknown_outcome_outlasts_a_later_write_of_unread_epoch() {
        let items = cache();
        let own = OwnEpochs::default();
        items.wrote_unknown(1);
        items.wrote(1, WriteEpoch::Committed, None);
        let later = Instant::now() + std::time::Duration::from_millis(1);
        items.observed(3, later, &own).await;
        items.start_load().keep([(1, body("maybe old"))]);
        assert_eq!(items.get(1), None);
    }

    #[test]
    fn an_unknown_outcome_stops_caching_that_notifier() {
        let items = cache();
        items.start_load().keep([(1, body("old"))]);
        items.wrote_unknown(1);
        items.start_load().keep([(1, body("maybe old"))]);
        assert_eq!(items.get(1), None);
    }

    #[test]
    fn marks_outlive_the_loads_that_need_them() {
        let items = cache();
        let old_load = items.start_load();
        items.wrote(1, WriteEpoch::Exact(1), Some(body("new")));
        for id in 2..=MARKS_BEFORE_PRUNING as i64 + 1 {
            items.wrote(id, WriteEpoch::Exact(id), None);
        }
        assert!(
            items.marks().written.contains_key(&1),
            "a load still needs it"
        );
        old_load.keep([(1, body("old"))]);
        assert_eq!(items.get(1), Some(body("new")));
        drop(old_load);
        items.wrote(0, WriteEpoch::Exact(10_000), None);
        assert!(
            items.marks().written.len() <= 1,
            "pruned once no load needs them"
        );
    }

    #[tokio::test]
    async fn own_writes_keep_the_bodies_and_foreign_ones_retire_them() {
        let items = cache();
        let own = OwnEpochs::default();
        items.observed(10, Instant::now(), &own).await;
        items.start_load().keep([(1, body("one"))]);
        items.observed(10, Instant::now(), &own).await;
        assert_eq!(items.get(1), Some(body("one")), "nothing moved");
        assert_eq!(items.counters.retirements.get(), 0);
        items.observed(11, Instant::now(), &own).await;
        assert_eq!(items.get(1), None, "a step nobody here wrote");
        assert_eq!(items.counters.retirements.get(), 1);
        items.start_load().keep([(1, body("again"))]);
        assert_eq!(items.get(1), Some(body("again")));
    }

    #[tokio::test]
    async fn an_epoch_going_back_turns_caching_off() {
        let items = cache();
        let own = OwnEpochs::default();
        items.observed(10, Instant::now(), &own).await;
        items.observed(4, Instant::now(), &own).await;
        items.start_load().keep([(1, body("one"))]);
        assert_eq!(items.get(1), None);
    }
}
