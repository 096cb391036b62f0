//! CORS for dashboards on other origins, as django-cors-headers behaves (§8).

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderValue;
use actix_web::http::{Method, header};
use actix_web::middleware::Next;

/// The CORS middleware for the configured origins (`*` allows any); `None` when the list
/// is empty, so that no CORS header is ever sent by default.
pub fn cors(allowed_origins: &[String]) -> Option<Cors> {
    if allowed_origins.is_empty() {
        return None;
    }
    let mut cors = Cors::default()
        .allowed_methods([
            Method::DELETE,
            Method::GET,
            Method::OPTIONS,
            Method::PATCH,
            Method::POST,
            Method::PUT,
        ])
        .allowed_headers([
            header::ACCEPT,
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            crate::idempotency::IDEMPOTENCY_KEY,
            header::USER_AGENT,
            header::HeaderName::from_static("x-requested-with"),
        ])
        .expose_headers([
            header::LOCATION,
            header::RETRY_AFTER,
            crate::idempotency::IDEMPOTENT_REPLAY,
            crate::request_id::X_REQUEST_ID,
        ])
        .max_age(86400)
        // A foreign origin gets an ordinary answer without CORS headers; the browser blocks it.
        .block_on_origin_mismatch(false);
    if allowed_origins.iter().any(|o| o.trim() == "*") {
        cors = cors.allow_any_origin().send_wildcard();
    } else {
        for origin in allowed_origins {
            cors = cors.allowed_origin(origin.trim());
        }
    }
    Some(cors)
}

const ALLOW_METHODS: &str = "DELETE, GET, OPTIONS, PATCH, POST, PUT";
const ALLOW_HEADERS: &str =
    "accept, authorization, content-type, idempotency-key, user-agent, x-requested-with";

/// actix-cors lists methods and headers in hash order; clients and tests of the original
/// (django-cors-headers) see them sorted, so preflight answers are rewritten to that.
pub async fn sorted_preflight_lists(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    if headers.contains_key(header::ACCESS_CONTROL_ALLOW_METHODS) {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOW_METHODS),
        );
    }
    if headers.contains_key(header::ACCESS_CONTROL_ALLOW_HEADERS) {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOW_HEADERS),
        );
    }
    Ok(response)
}
