//! What every handler shares, built once at start-up and cloned into each worker.

use notifier_delivery::Outbox;
use notifier_mailer::Mailer;
use notifier_store::Store;

use crate::Metrics;

#[derive(Clone)]
pub struct AppState {
    /// Every notifier read and write, and token resolution, with their caches.
    pub store: Store,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// How long a request body may take to arrive (`server.body_timeout_secs`).
    pub body_timeout: std::time::Duration,
    /// Link bases, trusted proxies and allowed hosts.
    pub origin: crate::OriginPolicy,
    /// Failed authentications per client.
    pub auth_throttle: crate::AuthThrottle,
    /// `server.metrics_token`: when set, `/metrics` wants it as a bearer token.
    pub metrics_token: Option<String>,
    /// SMTP for `/test`, with its per-notifier connection pool.
    pub mailer: Mailer,
    /// Sends: recorded as deliveries, attempted now or by the workers.
    pub outbox: Outbox,
    pub metrics: Metrics,
}
