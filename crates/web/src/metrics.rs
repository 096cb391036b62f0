//! Prometheus metrics: per-route request counts and latencies, the notifier count, mail
//! outcomes, the pool's connections and how well the notifier cache serves.
//!
//! Request labels come from closed sets only (§11): the route pattern or `unmatched`, a
//! standard method or `other`, the status code. No request can add a series.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::AUTHORIZATION;
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, web};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

use crate::api_docs::Detail;
use crate::auth::{Credentials, parse_credentials};
use crate::paths::METRICS_PATH;
use crate::{ApiError, AppState};
use notifier_store::CacheCounters;

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
}

/// The label of a request's method: a standard method's name, else `other`.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [(Method, &str); 9] = [
        (Method::GET, "GET"),
        (Method::HEAD, "HEAD"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::PATCH, "PATCH"),
        (Method::DELETE, "DELETE"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::CONNECT, "CONNECT"),
        (Method::TRACE, "TRACE"),
    ];
    KNOWN
        .iter()
        .find(|(known, _)| known == method)
        .map_or("other", |(_, label)| label)
}

/// Middleware around the whole app: one count and one latency sample per request.
pub async fn record_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = method_label(req.method());
    let response = next.call(req).await?;
    let request = response.request();
    if let Some(state) = request.app_data::<web::Data<AppState>>() {
        let endpoint = request.match_pattern();
        let status = response.status();
        let labels = [
            endpoint.as_deref().unwrap_or("unmatched"),
            method,
            status.as_str(),
        ];
        let metrics = &state.metrics;
        metrics.requests.with_label_values(&labels).inc();
        metrics
            .request_seconds
            .with_label_values(&labels)
            .observe(started.elapsed().as_secs_f64());
    }
    Ok(response)
}

#[utoipa::path(get, path = METRICS_PATH, tag = "operations",
    responses(
        (status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"),
        (status = 401, description = "`server.metrics_token` is set and the request does not carry it as `Authorization: Bearer <token>`", body = Detail),
        (status = 429, description = "Too many failed authentications from this client", body = Detail),
    ))]
/// GET /metrics: gauges read fresh at scrape time, so every instance reports the truth
/// of the shared database, then the registry in Prometheus' text format.
pub async fn metrics(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if let Some(expected) = &state.metrics_token {
        let header = req.headers().get(AUTHORIZATION).map(|v| v.as_bytes());
        match parse_credentials(header) {
            Credentials::Key(key) if same_secret(key.as_bytes(), expected.as_bytes()) => {}
            Credentials::Key(_) => return Err(ApiError::AuthenticationFailed("Invalid token.")),
            Credentials::Malformed(message) => return Err(ApiError::AuthenticationFailed(message)),
            Credentials::None => return Err(ApiError::NotAuthenticated),
        }
    }
    let metrics = &state.metrics;
    let count = state.store.notifiers.count().await?;
    metrics
        .notifiers
        .set(i64::try_from(count).unwrap_or(i64::MAX));
    let (open, idle) = state.store.pool_stats();
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

/// Equal bytes, compared in time that does not depend on where they differ.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_share_one_label() {
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        for odd in ["M000001", "PROPFIND", "get"] {
            let method = Method::from_bytes(odd.as_bytes()).unwrap();
            assert_eq!(method_label(&method), "other", "{odd}");
        }
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abd", b"abc"));
        assert!(!same_secret(b"ab", b"abc"));
    }
}
