//! What every handler shares, built once at start-up and cloned into each worker.

use notifier_mailer::Mailer;

use crate::Metrics;
use crate::auth::PrincipalCache;
use notifier_persistence::{DatabaseConnection, SecretBox};

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub secrets: SecretBox,
    /// Return stored passwords instead of the mask (§6), for clients that depend on it.
    pub expose_passwords: bool,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// SMTP delivery, with its per-notifier connection pool.
    pub mailer: Mailer,
    pub metrics: Metrics,
    /// Token lookups, valid until users, grants or tokens change.
    pub principals: PrincipalCache,
}
