use actix_web::{HttpResponse, web};
use notifier_persistence::notifiers;

use super::parse_id;
use crate::auth::{Require, markers::DeleteNotifier};
use crate::openapi::Detail;
use crate::{ApiError, AppState};

/// Delete a notifier (permission 2834).
#[utoipa::path(
    delete, path = "/api/notifications/notifiers/email/{id}", tag = "notifiers",
    params(("id" = i64, Path, description = "The notifier's id")),
    responses(
        (status = 204, description = "Deleted; empty body"),
        (status = 401, description = "No, malformed, unknown or revoked token; inactive user", body = Detail),
        (status = 403, description = "Authenticated but without the permission code", body = Detail),
        (status = 404, description = "No notifier with this id", body = Detail),
    ),
    security(("Token" = [])),
)]
pub async fn delete(
    _: Require<DeleteNotifier>,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id)?;
    notifiers::delete(&state.db, id).await?;
    state.mailer.forget(id);
    Ok(HttpResponse::NoContent().finish())
}
