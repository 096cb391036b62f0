//! One file per endpoint action.

pub mod create;
pub mod delete;
pub mod health;
pub mod list;
pub mod me;
pub mod metadata;
pub mod not_allowed;
pub mod retrieve;
pub mod send;
pub mod smtp_check;
pub mod update;

use std::sync::Arc;

use actix_web::web::Bytes;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use notifier_domain::Notifier;
use notifier_persistence::epochs::Epochs;

use crate::dto::NotifierResponse;
use crate::{ApiError, AppState};

/// The SMTP settings a stored notifier describes.
fn smtp_settings(notifier: &Notifier) -> notifier_mailer::SmtpSettings {
    notifier_mailer::SmtpSettings {
        host: notifier.host.clone(),
        port: notifier.port,
        username: notifier.username.clone(),
        password: notifier.password.expose().to_owned(),
        from_email: notifier.from_email.clone(),
        tls: notifier_mailer::TlsMode::from_flags(notifier.use_tls, notifier.use_ssl),
    }
}

/// A path id that routing accepted (digits) but that no row can have is simply not found.
fn parse_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| ApiError::NotifierNotFound)
}

/// The state of the data a response was computed from: the database's data epoch and the
/// count of this instance's own writes.
#[derive(Debug, Clone)]
pub struct DataVersion {
    /// Shared by every entry stored under it, so an entry costs no copy of it.
    epochs: Arc<Epochs>,
    local_writes: u64,
}

impl PartialEq for DataVersion {
    fn eq(&self, other: &Self) -> bool {
        self.local_writes == other.local_writes && self.epochs.data == other.epochs.data
    }
}

/// The data version this request sees. Taken before any response is computed, so a
/// racing write leaves an entry stale, never wrong. `None` when the request carried no
/// epochs (nothing is cached then).
fn data_version(req: &HttpRequest, state: &AppState) -> Option<DataVersion> {
    let local_writes = state.caches.local_writes.count();
    let epochs = req.extensions().get::<Arc<Epochs>>().cloned()?;
    Some(DataVersion {
        epochs,
        local_writes,
    })
}

/// A write of notifier `id` failed: unless that certainly changed nothing, nothing cached
/// about the notifier is trusted again (the write may have committed).
fn write_failed(state: &AppState, id: i64, error: &notifier_persistence::Error) {
    use notifier_persistence::Error::{NameTaken, NotFound, PasswordRequired};
    // These change nothing; any other failure may or may not have written.
    if !matches!(error, NotFound | NameTaken | PasswordRequired) {
        state.caches.items.wrote_unknown(id);
    }
}

/// A notifier's body as every response shows it.
fn notifier_body(state: &AppState, notifier: &Notifier) -> Result<Bytes, ApiError> {
    to_bytes(&NotifierResponse::new(notifier, state.expose_passwords))
}

fn json_body(body: Bytes) -> HttpResponse {
    json_response(actix_web::http::StatusCode::OK, body)
}

fn json_response(status: actix_web::http::StatusCode, body: Bytes) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json")
        .body(body)
}

fn to_bytes(value: &impl serde::Serialize) -> Result<Bytes, ApiError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| ApiError::Internal(Box::new(e)))
}
