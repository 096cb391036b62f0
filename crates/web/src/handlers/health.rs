use actix_web::{HttpResponse, web};

use crate::api_docs::Detail;
use crate::paths::{HEALTHZ_PATH, READYZ_PATH};
use crate::{ApiError, AppState};

/// The process is alive; no database, no auth.
#[utoipa::path(get, path = HEALTHZ_PATH, tag = "operations",
    responses((status = 200, description = "Alive", body = String, content_type = "text/plain")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok")
}

#[utoipa::path(get, path = READYZ_PATH, tag = "operations",
    responses(
        (status = 200, description = "The database answers and takes writes", body = String, content_type = "text/plain"),
        (status = 503, description = "The database does not answer, or is read-only", body = Detail),
    ))]
/// The database answers and takes writes; 503 otherwise (a read-only database too, since
/// every write would fail), so a load balancer stops sending traffic here.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state
        .store
        .ready()
        .await
        .map_err(|why| ApiError::Unavailable(Box::new(why)))?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok"))
}
