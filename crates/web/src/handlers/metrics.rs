use actix_web::http::header::AUTHORIZATION;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::api_docs::Detail;
use crate::auth::{Credentials, parse_credentials};
use crate::paths::METRICS_PATH;
use crate::{ApiError, AppState};

#[utoipa::path(get, path = METRICS_PATH, tag = "operations",
    responses(
        (status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"),
        (status = 401, description = "`server.metrics_token` is set and the request does not carry it as `Authorization: Bearer <token>`", body = Detail),
        (status = 429, description = "Too many failed authentications from this client", body = Detail),
    ))]
/// GET /metrics: gauges read fresh at scrape time, so every instance reports the truth
/// of the shared database, then the registry in Prometheus' text format.
pub async fn metrics(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if let Some(expected) = &state.metrics_token {
        let header = req.headers().get(AUTHORIZATION).map(|v| v.as_bytes());
        match parse_credentials(header) {
            Credentials::Key(key) if same_secret(key.as_bytes(), expected.as_bytes()) => {}
            Credentials::Key(_) => return Err(ApiError::AuthenticationFailed("Invalid token.")),
            Credentials::Malformed(message) => return Err(ApiError::AuthenticationFailed(message)),
            Credentials::None => return Err(ApiError::NotAuthenticated),
        }
    }
    let count = state.store.notifiers.count().await?;
    let deliveries = state.store.deliveries.stats().await?;
    let (open, idle) = state.store.pool_stats();
    let body = state
        .metrics
        .scrape(
            i64::try_from(count).unwrap_or(i64::MAX),
            &deliveries,
            state.store.deliveries.now(),
            i64::from(open),
            i64::try_from(idle).unwrap_or(i64::MAX),
        )
        .map_err(|e| ApiError::Internal(Box::new(e)))?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body))
}

/// Equal bytes, compared in time that does not depend on where they differ.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abd", b"abc"));
        assert!(!same_secret(b"ab", b"abc"));
    }
}
