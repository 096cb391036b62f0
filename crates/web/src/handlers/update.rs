use actix_web::{HttpResponse, web};
use notifier_domain::{AuditContext, NotifierChanges, parse_partial_update, parse_replace};
use serde_json::{Map, Value};

use super::{json_body, parse_id};
use crate::api_docs::{AuthFailures, BodyFailures, NotifierWrite, UnknownNotifier};
use crate::audit_context::Audit;
use crate::auth::{Require, markers::UpdateNotifier};
use crate::body::JsonObject;
use crate::dto::NotifierResponse;
use crate::paths::NOTIFIER_PATH;
use crate::{ApiError, AppState};

/// Update some fields of a notifier (permission 2833).
#[utoipa::path(
    patch, path = NOTIFIER_PATH, tag = "notifiers",
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
    Audit(audit): Audit,
    id: web::Path<String>,
    state: web::Data<AppState>,
    JsonObject(body): JsonObject,
) -> Result<HttpResponse, ApiError> {
    apply(&state, &id, &body, parse_partial_update, &audit).await
}

/// Replace a notifier (permission 2833): create's required fields; omitted optional fields keep their values.
#[utoipa::path(
    put, path = NOTIFIER_PATH, tag = "notifiers",
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
    Audit(audit): Audit,
    id: web::Path<String>,
    state: web::Data<AppState>,
    JsonObject(body): JsonObject,
) -> Result<HttpResponse, ApiError> {
    apply(&state, &id, &body, parse_replace, &audit).await
}

async fn apply(
    state: &AppState,
    raw_id: &str,
    body: &Map<String, Value>,
    parse: fn(&Map<String, Value>) -> Result<NotifierChanges, notifier_domain::FieldErrors>,
    audit: &AuditContext,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(raw_id)?;
    let store = &state.store.notifiers;
    let changes = match parse(body) {
        Ok(changes) => changes,
        Err(errors) => return Err(store.refused(Some(id), body, errors).await.into()),
    };
    Ok(json_body(store.update(id, changes, audit).await?))
}
