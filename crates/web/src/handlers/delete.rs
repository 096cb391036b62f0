use actix_web::{HttpResponse, web};

use super::parse_id;
use crate::api_docs::{AuthFailures, UnknownNotifier};
use crate::audit_context::Audit;
use crate::auth::{Require, markers::DeleteNotifier};
use crate::paths::NOTIFIER_PATH;
use crate::{ApiError, AppState};

/// Delete a notifier (permission 2834).
#[utoipa::path(
    delete, path = NOTIFIER_PATH, tag = "notifiers",
    params(("id" = i64, Path, description = "The notifier's id")),
    responses(
        (status = 204, description = "Deleted; empty body"),
        AuthFailures,
        UnknownNotifier,
    ),
    security(("Token" = [])),
)]
pub async fn delete(
    _: Require<DeleteNotifier>,
    Audit(audit): Audit,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    state.store.notifiers.delete(parse_id(&id)?, &audit).await?;
    Ok(HttpResponse::NoContent().finish())
}
