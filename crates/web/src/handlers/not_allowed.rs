use std::future::{Ready, ready};

use actix_web::{HttpRequest, HttpResponse};

use crate::ApiError;
use crate::auth::{Authenticated, Require, markers::AdminOnly};

/// Methods a route does not serve. As in DRF, authentication and permission come first
/// (only an admin passes a method no action maps to), then 405 with `Allow`.
pub fn not_allowed(
    allow: &'static str,
) -> impl Fn(Require<AdminOnly>, HttpRequest) -> Ready<Result<HttpResponse, ApiError>> + Clone {
    move |_, req| refuse(&req, allow)
}

/// Methods `/api/me` does not serve: any authenticated user gets 405, as DRF's
/// `IsAuthenticated` view answers.
pub fn not_allowed_authenticated(
    allow: &'static str,
) -> impl Fn(Authenticated, HttpRequest) -> Ready<Result<HttpResponse, ApiError>> + Clone {
    move |_, req| refuse(&req, allow)
}

/// 405 on the unauthenticated operational routes (health, readiness, metrics).
pub fn not_allowed_open(
    allow: &'static str,
) -> impl Fn(HttpRequest) -> Ready<Result<HttpResponse, ApiError>> + Clone {
    move |req| refuse(&req, allow)
}

fn refuse(req: &HttpRequest, allow: &'static str) -> Ready<Result<HttpResponse, ApiError>> {
    ready(Err(ApiError::MethodNotAllowed {
        method: req.method().to_string(),
        allow,
    }))
}

/// No route matches the path (a non-integer id, say).
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}
