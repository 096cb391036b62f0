use actix_web::{HttpResponse, web};

use crate::{ApiError, AppState};

/// The process is alive; no database, no auth.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Alive", body = String, content_type = "text/plain")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok")
}

#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "The database answers", body = String, content_type = "text/plain"),
        (status = 503, description = "The database does not answer", body = crate::openapi::Detail),
    ))]
/// The database answers; 503 otherwise, so a load balancer stops sending traffic here.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if notifier_persistence::ping(&state.db).await {
        Ok(HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body("ok"))
    } else {
        Err(ApiError::Unavailable("the database does not answer".into()))
    }
}
