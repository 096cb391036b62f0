use actix_web::{HttpResponse, web};
use notifier_persistence::notifiers;

use super::{parse_id, write_failed};
use crate::auth::{Require, markers::DeleteNotifier};
use crate::openapi::{AuthFailures, UnknownNotifier};
use crate::{ApiError, AppState};

/// Delete a notifier (permission 2834).
#[utoipa::path(
    delete, path = "/api/notifications/notifiers/email/{id}", tag = "notifiers",
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
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id)?;
    let deleted = notifiers::delete(&state.writer, id).await;
    state.caches.local_writes.record();
    let epoch = deleted.inspect_err(|e| write_failed(&state, id, e))?;
    state.caches.items.wrote(id, epoch, None);
    state.mailer.forget(id);
    Ok(HttpResponse::NoContent().finish())
}
