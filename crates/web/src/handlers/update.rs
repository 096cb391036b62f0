use actix_web::{HttpResponse, web};
use notifier_domain::{NotifierChanges, parse_partial_update, parse_replace};
use notifier_persistence::notifiers;
use serde_json::{Map, Value};

use super::create::with_duplicate_name;
use super::{json_body, notifier_body, parse_id, write_failed};
use crate::auth::{Require, markers::UpdateNotifier};
use crate::body::JsonObject;
use crate::dto::NotifierResponse;
use crate::openapi::{AuthFailures, BodyFailures, NotifierWrite, UnknownNotifier};
use crate::{ApiError, AppState};

/// Update some fields of a notifier (permission 2833).
#[utoipa::path(
    patch, path = "/api/notifications/notifiers/email/{id}", tag = "notifiers",
    params(("id" = i64, Path, description = "The notifier's id")),
    request_body(content = NotifierWrite, content_type = "application/json"),
    responses(
        (status = 200, description = "The updated notifier", body = NotifierResponse),
        BodyFailures,
        AuthFailures,
        UnknownNotifier,
    ),
    security(("Token" = [])),
)]
pub async fn partial_update(
    _: Require<UpdateNotifier>,
    id: web::Path<String>,
    state: web::Data<AppState>,
    JsonObject(body): JsonObject,
) -> Result<HttpResponse, ApiError> {
    apply(&state, &id, &body, parse_partial_update).await
}

/// Replace a notifier (permission 2833): create's required fields; omitted optional fields keep their values.
#[utoipa::path(
    put, path = "/api/notifications/notifiers/email/{id}", tag = "notifiers",
    params(("id" = i64, Path, description = "The notifier's id")),
    request_body(content = NotifierWrite, content_type = "application/json"),
    responses(
        (status = 200, description = "The updated notifier", body = NotifierResponse),
        BodyFailures,
        AuthFailures,
        UnknownNotifier,
    ),
    security(("Token" = [])),
)]
pub async fn replace(
    _: Require<UpdateNotifier>,
    id: web::Path<String>,
    state: web::Data<AppState>,
    JsonObject(body): JsonObject,
) -> Result<HttpResponse, ApiError> {
    apply(&state, &id, &body, parse_replace).await
}

async fn apply(
    state: &AppState,
    raw_id: &str,
    body: &Map<String, Value>,
    parse: fn(&Map<String, Value>) -> Result<NotifierChanges, notifier_domain::FieldErrors>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(raw_id)?;
    let changes = match parse(body) {
        Ok(changes) => changes,
        Err(errors) => {
            // DRF looks the object up before validating: an unknown id is 404 whatever
            // the body.
            notifiers::get(&state.db, &state.secrets, id).await?;
            return Err(with_duplicate_name(state, body, Some(id), errors).await);
        }
    };
    let written = notifiers::update(&state.writer, &state.secrets, id, changes).await;
    state.caches.local_writes.record();
    let (notifier, epoch) = written.inspect_err(|e| write_failed(state, id, e))?;
    let body = notifier_body(state, &notifier);
    state
        .caches
        .items
        .wrote(id, epoch, body.as_ref().ok().cloned());
    // Pooled SMTP connections were opened with the old settings.
    state.mailer.forget(id);
    Ok(json_body(body?))
}
