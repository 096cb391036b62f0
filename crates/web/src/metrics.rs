//! Prometheus metrics: per-route request counts and latencies, the notifier count, mail
//! outcomes, the pool's connections and how well the notifier cache serves.
//!
//! Request labels come from closed sets only (§11): the route pattern or `unmatched`, a
//! standard method or `other`, the status code. No request can add a series.

use notifier_store::CacheCounters;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

/// Handles to every metric; clones share the same registry.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    request_seconds: HistogramVec,
    notifiers: IntGauge,
    mail_sent: IntCounterVec,
    mail_failed: IntCounterVec,
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
        for counter in cache.all() {
            registry.register(Box::new(counter.clone()))?;
        }
        Ok(Self {
            registry,
            requests,
            request_seconds,
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
        pool_connections: i64,
        pool_idle: i64,
    ) -> Result<Vec<u8>, prometheus::Error> {
        self.notifiers.set(notifiers);
        self.pool_connections.set(pool_connections);
        self.pool_idle.set(pool_idle);
        let mut text = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut text)?;
        Ok(text)
    }
}
