//! Prometheus metrics: per-route request counts and latencies, the notifier count,
//! deliveries and their attempts, mail outcomes, the pool's connections and how well the notifier cache serves.
//!
//! Request labels come from closed sets only (§11): the route pattern or `unmatched`, a
//! standard method or `other`, the status code. No request can add a series.

use notifier_delivery::DeliveryCounters;
use notifier_store::{CacheCounters, DeliveryStats};
use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// Handles to every metric; clones share the same registry.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    request_seconds: HistogramVec,
    notifiers: IntGauge,
    deliveries: IntGaugeVec,
    queue_age: Gauge,
    delivery: DeliveryCounters,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
    cache: CacheCounters,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let request_labels = ["endpoint", "method", "status"];
        let requests = IntCounterVec::new(
            Opts::new("notifier_http_requests_total", "HTTP requests answered"),
            &request_labels,
        )?;
        let request_seconds = HistogramVec::new(
            HistogramOpts::new(
                "notifier_http_requests_duration_seconds",
                "Time to answer an HTTP request",
            ),
            &request_labels,
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(request_seconds.clone()))?;
        let notifiers = IntGauge::new("notifier_notifiers", "Email notifiers stored")?;
        let deliveries = IntGaugeVec::new(
            Opts::new("notifier_deliveries", "Deliveries stored, by status"),
            &["status"],
        )?;
        let queue_age = Gauge::new(
            "notifier_delivery_queue_age_seconds",
            "Age of the oldest delivery due for an attempt (0 when none is due)",
        )?;
        let delivery = DeliveryCounters::new()?;
        let pool_connections = IntGauge::new(
            "notifier_db_pool_connections",
            "Database connections open in the pool",
        )?;
        let pool_idle = IntGauge::new(
            "notifier_db_pool_idle",
            "Idle database connections in the pool",
        )?;
        registry.register(Box::new(notifiers.clone()))?;
        registry.register(Box::new(deliveries.clone()))?;
        registry.register(Box::new(queue_age.clone()))?;
        for counter in delivery.all() {
            registry.register(Box::new(counter.clone()))?;
        }
        registry.register(Box::new(pool_connections.clone()))?;
        registry.register(Box::new(pool_idle.clone()))?;
        let cache = CacheCounters::new()?;
        for counter in cache.all() {
            registry.register(Box::new(counter.clone()))?;
        }
        Ok(Self {
            registry,
            requests,
            request_seconds,
            notifiers,
            deliveries,
            queue_age,
            delivery,
            pool_connections,
            pool_idle,
            cache,
        })
    }

    /// Registers a counter kept elsewhere (the mailer's OAuth2 token fetches).
    pub fn register(&self, counter: IntCounterVec) -> Result<(), prometheus::Error> {
        self.registry.register(Box::new(counter))
    }

    /// The notifier cache's counters, registered here.
    pub fn cache_counters(&self) -> CacheCounters {
        self.cache.clone()
    }

    /// The delivery path's counters, registered here.
    pub fn delivery_counters(&self) -> DeliveryCounters {
        self.delivery.clone()
    }

    /// One answered request, labelled `[endpoint, method, status]`.
    pub fn request_answered(&self, labels: [&str; 3], seconds: f64) {
        self.requests.with_label_values(&labels).inc();
        self.request_seconds
            .with_label_values(&labels)
            .observe(seconds);
    }

    /// Every metric in Prometheus' text format, with the gauges read at scrape time.
    pub fn scrape(
        &self,
        notifiers: i64,
        deliveries: &DeliveryStats,
        now: chrono::DateTime<chrono::Utc>,
        pool_connections: i64,
        pool_idle: i64,
    ) -> Result<Vec<u8>, prometheus::Error> {
        self.notifiers.set(notifiers);
        for (status, count) in &deliveries.by_status {
            self.deliveries
                .with_label_values(&[status.as_str()])
                .set(i64::try_from(*count).unwrap_or(i64::MAX));
        }
        let age = deliveries.oldest_due.map_or(0.0, |due| {
            (now - due).num_milliseconds().max(0) as f64 / 1000.0
        });
        self.queue_age.set(age);
        self.pool_connections.set(pool_connections);
        self.pool_idle.set(pool_idle);
        let mut text = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut text)?;
        Ok(text)
    }
}
