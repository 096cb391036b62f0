//! One file per endpoint action.

pub mod create;
pub mod delete;
pub mod health;
pub mod list;
pub mod me;
pub mod metadata;
pub mod metrics;
pub mod not_allowed;
pub mod retrieve;
pub mod send;
pub mod smtp_check;
pub mod update;

use actix_web::HttpResponse;
use actix_web::web::Bytes;
use notifier_domain::Notifier;

use crate::ApiError;

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

fn json_body(body: Bytes) -> HttpResponse {
    json_response(actix_web::http::StatusCode::OK, body)
}

fn json_response(status: actix_web::http::StatusCode, body: Bytes) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json")
        .body(body)
}
