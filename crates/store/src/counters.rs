//! What the notifier cache counts, for the metrics endpoint.

use prometheus::IntCounter;

#[derive(Clone)]
pub struct CacheCounters {
    /// Notifier bodies served from the cache.
    pub hits: IntCounter,
    /// Reads of notifier rows from the database to fill it.
    pub loads: IntCounter,
    /// Changes made elsewhere (CLI, another instance) that retired every cached body.
    pub retirements: IntCounter,
}

impl CacheCounters {
    pub fn new() -> Result<Self, prometheus::Error> {
        Ok(Self {
            hits: IntCounter::new(
                "notifier_cache_hits_total",
                "Notifier bodies served from this instance's cache",
            )?,
            loads: IntCounter::new(
                "notifier_cache_loads_total",
                "Database reads that filled the notifier cache (a block of ids, or a page's missing ones)",
            )?,
            retirements: IntCounter::new(
                "notifier_cache_retirements_total",
                "Notifier changes made elsewhere (CLI, another instance) that retired every cached body",
            )?,
        })
    }

    /// Every counter, to register with a metrics registry.
    pub fn all(&self) -> [&IntCounter; 3] {
        [&self.hits, &self.loads, &self.retirements]
    }
}
