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

use std::future::Future;

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

fn notifier_json(
    status: actix_web::http::StatusCode,
    notifier: &Notifier,
    expose: bool,
) -> HttpResponse {
    HttpResponse::build(status).json(NotifierResponse::new(notifier, expose))
}

/// A GET body from the response cache when it was stored under the data epoch this
/// request read (never older than the request), else computed and stored.
async fn cached_json<Fut>(
    req: &HttpRequest,
    state: &AppState,
    key: String,
    compute: impl FnOnce() -> Fut,
) -> Result<HttpResponse, ApiError>
where
    Fut: Future<Output = Result<Bytes, ApiError>>,
{
    // Read before the response is computed, so a racing write leaves the entry stale,
    // never wrong.
    let writes = state.caches.local_writes.count();
    let epoch = req
        .extensions()
        .get::<Epochs>()
        .map(|e| format!("{}/{writes}", e.data));
    if let Some(body) = epoch
        .as_deref()
        .and_then(|epoch| state.caches.responses.get(&key, epoch))
    {
        return Ok(json_body(body));
    }
    let body = compute().await?;
    if let Some(epoch) = epoch {
        state.caches.responses.insert(key, epoch, body.clone());
    }
    Ok(json_body(body))
}

fn json_body(body: Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body)
}

fn to_bytes(value: &impl serde::Serialize) -> Result<Bytes, ApiError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| ApiError::Internal(Box::new(e)))
}
