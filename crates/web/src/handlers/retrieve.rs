use actix_web::{HttpResponse, web};
use notifier_persistence::notifiers;

use super::{json_body, notifier_body, parse_id};
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
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id)?;
    if let Some(body) = state.caches.items.get(id) {
        return Ok(json_body(body));
    }
    // A miss mostly means a cold cache (at start, or after a change made elsewhere): read
    // the neighbouring rows too while they fit, so warming costs one query per block of
    // ids instead of one per id.
    let _loading = state
        .caches
        .loads
        .lock(&id.div_euclid(notifiers::BLOCK))
        .await;
    if let Some(body) = state.caches.items.get(id) {
        return Ok(json_body(body));
    }
    let load = state.caches.items.start_load();
    let rows = if state.caches.items.has_room_for_a_block() {
        notifiers::get_block(&state.db, &state.secrets, id).await?
    } else {
        vec![notifiers::get(&state.db, &state.secrets, id).await?]
    };
    let mut wanted = None;
    let mut bodies = Vec::with_capacity(rows.len());
    for notifier in rows {
        let body = notifier_body(&state, &notifier)?;
        if notifier.id == id {
            wanted = Some(body.clone());
        }
        bodies.push((notifier.id, body));
    }
    load.keep(bodies);
    wanted.map(json_body).ok_or(ApiError::NotifierNotFound)
}
