//! One file per endpoint action.

pub mod audit_log;
pub mod authentication;
pub mod create;
pub mod delete;
pub mod delivery_actions;
pub mod delivery_log;
pub mod dkim;
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

use crate::ApiError;

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
