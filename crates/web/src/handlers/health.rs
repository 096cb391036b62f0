use actix_web::{HttpResponse, web};

use crate::{ApiError, AppState};

/// The process is alive; no database, no auth.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok")
}

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
