//! `/authentication`: how a notifier logs in to its server (docs/API.md §2). Its own
//! resource, so the notifier's body, cache and `updated_at` stay as they are.

use actix_web::{HttpResponse, web};
use notifier_domain::{Authentication, parse_authentication};

use super::parse_id;
use crate::api_docs::{AuthFailures, AuthenticationBody, BodyFailures, UnknownNotifier};
use crate::audit_context::Audit;
use crate::auth::{
    Require,
    markers::{RetrieveNotifier, UpdateNotifier},
};
use crate::body::JsonObject;
use crate::paths::AUTHENTICATION_PATH;
use crate::{ApiError, AppState};

/// How the notifier logs in (permission 2832): `password` unless set otherwise.
#[utoipa::path(
    get, path = AUTHENTICATION_PATH, tag = "notifiers", operation_id = "retrieve_authentication",
    params(("id" = i64, Path, description = "The notifier's id")),
    responses(
        (status = 200, description = "The notifier's authentication method", body = AuthenticationBody),
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
    let auth = state.store.authentication.get(parse_id(&id)?).await?;
    Ok(answer(&auth))
}

/// Set how the notifier logs in (permission 2833); the whole body, answered as GET does.
/// The notifier itself (and its `updated_at`) does not change.
#[utoipa::path(
    put, path = AUTHENTICATION_PATH, tag = "notifiers", operation_id = "replace_authentication",
    params(("id" = i64, Path, description = "The notifier's id")),
    request_body(content = AuthenticationBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The notifier's authentication method, as stored", body = AuthenticationBody),
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
    let id = parse_id(&id)?;
    let store = &state.store.authentication;
    let auth = match parse_authentication(&body) {
        Ok(auth) => auth,
        Err(errors) => {
            // As DRF's update view: the object is looked up before the body is validated.
            store.get(id).await?;
            return Err(ApiError::Validation(errors));
        }
    };
    Ok(answer(&store.put(id, auth, &audit).await?))
}

fn answer(auth: &Authentication) -> HttpResponse {
    HttpResponse::Ok().json(auth.to_json())
}
