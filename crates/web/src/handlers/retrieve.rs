use actix_web::{HttpRequest, HttpResponse, web};
use notifier_persistence::notifiers;

use super::{ResponseKey, cached_body, data_version, json_body, parse_id, store_body, to_bytes};
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
    let key = ResponseKey::Item(id);
    let version = data_version(&req, &state);
    if let Some(body) = cached_body(&state, &key, &version) {
        return Ok(json_body(body));
    }
    // A miss mostly means a cold cache (after a write, or at start): read the neighbouring
    // rows too, so warming costs one query per block of ids instead of one per id.
    let _loading = state
        .caches
        .loads
        .lock(&id.div_euclid(notifiers::BLOCK))
        .await;
    if let Some(body) = cached_body(&state, &key, &version) {
        return Ok(json_body(body));
    }
    let mut wanted = None;
    for notifier in notifiers::get_block(&state.db, &state.secrets, id).await? {
        let body = to_bytes(&NotifierResponse::new(&notifier, state.expose_passwords))?;
        if notifier.id == id {
            wanted = Some(body.clone());
        }
        store_body(&state, ResponseKey::Item(notifier.id), &version, body);
    }
    wanted.map(json_body).ok_or(ApiError::NotifierNotFound)
}
