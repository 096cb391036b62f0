use actix_web::{HttpRequest, HttpResponse, web};
use notifier_persistence::notifiers;

use super::{cached_json, parse_id, to_bytes};
use crate::auth::{Require, markers::RetrieveNotifier};
use crate::dto::NotifierResponse;
use crate::openapi::{AuthFailures, UnknownNotifier};
use crate::{ApiError, AppState};

/// Retrieve a notifier (permission 2832).
#[utoipa::path(
    get, path = "/api/notifications/notifiers/email/{id}", tag = "notifiers",
    params(("id" = i64, Path, description = "The notifier's id")),
    responses(
        (status = 200, description = "The notifier", body = NotifierResponse),
        AuthFailures,
        UnknownNotifier,
    ),
    security(("Token" = [])),
)]
pub async fn retrieve(
    _: Require<RetrieveNotifier>,
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id)?;
    cached_json(&req, &state, format!("notifier:{id}"), || async {
        let notifier = notifiers::get(&state.db, &state.secrets, id).await?;
        to_bytes(&NotifierResponse::new(&notifier, state.expose_passwords))
    })
    .await
}
