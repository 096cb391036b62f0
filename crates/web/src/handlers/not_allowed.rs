use std::future::{Ready, ready};

use actix_web::{HttpRequest, HttpResponse};

use crate::ApiError;
use crate::auth::{Require, markers::AdminOnly};

/// Methods a route does not serve. As in DRF, authentication and permission come first
/// (only an admin passes a method no action maps to), then 405 with `Allow`.
pub fn not_allowed(
    allow: &'static str,
) -> impl Fn(Require<AdminOnly>, HttpRequest) -> Ready<Result<HttpResponse, ApiError>> + Clone {
    move |_, req| {
        ready(Err(ApiError::MethodNotAllowed {
            method: req.method().to_string(),
            allow,
        }))
    }
}

/// 405 on the unauthenticated operational routes (health, readiness, metrics).
pub fn not_allowed_open(
    allow: &'static str,
) -> impl Fn(HttpRequest) -> Ready<Result<HttpResponse, ApiError>> + Clone {
    move |req| {
        ready(Err(ApiError::MethodNotAllowed {
            method: req.method().to_string(),
            allow,
        }))
    }
}

/// No route matches the path (a non-integer id, say).
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}
