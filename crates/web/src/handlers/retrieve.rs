use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use notifier_persistence::notifiers;

use super::{notifier_json, parse_id};
use crate::auth::{Require, markers::RetrieveNotifier};
use crate::dto::NotifierResponse;
use crate::openapi::Detail;
use crate::{ApiError, AppState};

/// Retrieve a notifier (permission 2832).
#[utoipa::path(
    get, path = "/api/notifications/notifiers/email/{id}", tag = "notifiers",
    params(("id" = i64, Path, description = "The notifier's id")),
    responses(
        (status = 200, description = "The notifier", body = NotifierResponse),
        (status = 401, description = "No, malformed, unknown or revoked token; inactive user", body = Detail),
        (status = 403, description = "Authenticated but without the permission code", body = Detail),
        (status = 404, description = "No notifier with this id", body = Detail),
    ),
    security(("Token" = [])),
)]
pub async fn retrieve(
    _: Require<RetrieveNotifier>,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let notifier = notifiers::get(&state.db, &state.secrets, parse_id(&id)?).await?;
    Ok(notifier_json(
        StatusCode::OK,
        &notifier,
        state.expose_passwords,
    ))
}
