//! The middleware that counts and times every request into [`Metrics`], with labels from
//! closed sets only.
//!
//! [`Metrics`]: crate::Metrics

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;

use crate::AppState;

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
        state
            .metrics
            .request_answered(labels, started.elapsed().as_secs_f64());
    }
    Ok(response)
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
}
