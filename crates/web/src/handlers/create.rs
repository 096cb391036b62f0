use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use notifier_domain::{FieldErrors, parse_create};
use notifier_persistence::notifiers;
use serde_json::{Map, Value};

use super::{json_response, notifier_body};
use crate::auth::{Require, markers::CreateNotifier};
use crate::body::JsonObject;
use crate::dto::NotifierResponse;
use crate::links::absolute_path;
use crate::openapi::{AuthFailures, BodyFailures, NotifierWrite};
use crate::routes::NOTIFIERS_PATH;
use crate::{ApiError, AppState};

/// Create a notifier (permission 2831); `Location` names the new resource.
#[utoipa::path(
    post, path = "/api/notifications/notifiers/email", tag = "notifiers",
    request_body(content = NotifierWrite, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = NotifierResponse,
            headers(("Location" = String, description = "URL of the new notifier"))),
        BodyFailures,
        AuthFailures,
    ),
    security(("Token" = [])),
)]
pub async fn create(
    _: Require<CreateNotifier>,
    req: HttpRequest,
    state: web::Data<AppState>,
    JsonObject(body): JsonObject,
) -> Result<HttpResponse, ApiError> {
    let new = match parse_create(&body) {
        Ok(new) => new,
        Err(errors) => return Err(with_duplicate_name(&state, &body, None, errors).await),
    };
    let written = notifiers::create(&state.writer, &state.secrets, new).await;
    state.caches.local_writes.record();
    // Ids are never reused, so no cached body can be stale. The new body is not cached
    // until first read: caching every create would grow memory with each one (a bulk
    // import of 100,000 notifiers: about 100 MB) for reads that may never come.
    let (notifier, _) = written?;
    let location = absolute_path(&req, &format!("{NOTIFIERS_PATH}/{}", notifier.id));
    let mut response = json_response(StatusCode::CREATED, notifier_body(&state, &notifier)?);
    if let Ok(value) = location.parse() {
        response.headers_mut().insert(LOCATION, value);
    }
    Ok(response)
}

/// DRF reports a taken name together with the other field errors; the database still
/// arbitrates when the rest of the body is valid.
pub(super) async fn with_duplicate_name(
    state: &AppState,
    body: &Map<String, Value>,
    except_id: Option<i64>,
    errors: FieldErrors,
) -> ApiError {
    if errors.has("name") {
        return ApiError::Validation(errors);
    }
    let name = body
        .get("name")
        .map(|value| Map::from_iter([("name".to_owned(), value.clone())]));
    let name =
        name.and_then(|only_name| notifier_domain::parse_partial_update(&only_name).ok()?.name);
    let Some(name) = name else {
        return ApiError::Validation(errors);
    };
    match notifiers::name_taken(&state.db, &name, except_id).await {
        Ok(true) => ApiError::Validation(errors.with_name_taken()),
        Ok(false) => ApiError::Validation(errors),
        Err(e) => e.into(),
    }
}
