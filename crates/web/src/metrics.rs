//! Prometheus metrics: per-route request counts and latencies (route patterns, so the
//! label set stays bounded), the notifier count, mail outcomes, the pool's connections and
//! how well the notifier cache serves.

use actix_web::{HttpResponse, web};
use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use prometheus::{Encoder, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

use crate::{ApiError, AppState};

/// Handles to every metric; clones share the same registry.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    notifiers: IntGauge,
    mail_sent: IntCounterVec,
    mail_failed: IntCounterVec,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
    cache: CacheCounters,
}

/// What the notifier cache counts (see `items`).
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
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let notifiers = IntGauge::new("notifier_notifiers", "Email notifiers stored")?;
        let mail_sent = IntCounterVec::new(
            Opts::new(
                "notifier_mail_sent_total",
                "Messages the SMTP server accepted",
            ),
            &["notifier_id"],
        )?;
        let mail_failed = IntCounterVec::new(
            Opts::new(
                "notifier_mail_failed_total",
                "Sends that failed in the SMTP exchange",
            ),
            &["notifier_id"],
        )?;
        let pool_connections = IntGauge::new(
            "notifier_db_pool_connections",
            "Database connections open in the pool",
        )?;
        let pool_idle = IntGauge::new(
            "notifier_db_pool_idle",
            "Idle database connections in the pool",
        )?;
        registry.register(Box::new(notifiers.clone()))?;
        registry.register(Box::new(mail_sent.clone()))?;
        registry.register(Box::new(mail_failed.clone()))?;
        registry.register(Box::new(pool_connections.clone()))?;
        registry.register(Box::new(pool_idle.clone()))?;
        let cache = CacheCounters::new()?;
        registry.register(Box::new(cache.hits.clone()))?;
        registry.register(Box::new(cache.loads.clone()))?;
        registry.register(Box::new(cache.retirements.clone()))?;
        Ok(Self {
            registry,
            notifiers,
            mail_sent,
            mail_failed,
            pool_connections,
            pool_idle,
            cache,
        })
    }

    /// The notifier cache's counters, registered here.
    pub fn cache_counters(&self) -> CacheCounters {
        self.cache.clone()
    }

    /// The request-metrics middleware, recording into this registry.
    pub fn middleware(
        &self,
    ) -> Result<PrometheusMetrics, Box<dyn std::error::Error + Send + Sync>> {
        PrometheusMetricsBuilder::new("notifier")
            .registry(self.registry.clone())
            // Paths no route matches would otherwise each become a label value.
            .mask_unmatched_patterns("UNMATCHED")
            .build()
    }

    pub fn mail_sent(&self, notifier_id: i64) {
        self.mail_sent
            .with_label_values(&[notifier_id.to_string()])
            .inc();
    }

    pub fn mail_failed(&self, notifier_id: i64) {
        self.mail_failed
            .with_label_values(&[notifier_id.to_string()])
            .inc();
    }
}

#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
/// GET /metrics: gauges read fresh at scrape time, so every instance reports the truth
/// of the shared database, then the registry in Prometheus' text format.
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let metrics = &state.metrics;
    let count = notifier_persistence::notifiers::count(&state.db).await?;
    metrics
        .notifiers
        .set(i64::try_from(count).unwrap_or(i64::MAX));
    let (open, idle) = notifier_persistence::pool_stats(&state.db);
    metrics.pool_connections.set(i64::from(open));
    metrics
        .pool_idle
        .set(i64::try_from(idle).unwrap_or(i64::MAX));
    let mut body = Vec::new();
    TextEncoder::new()
        .encode(&metrics.registry.gather(), &mut body)
        .map_err(|e| ApiError::Internal(Box::new(e)))?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body))
}
