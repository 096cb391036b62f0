use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use notifier_domain::parse_create;

use super::json_response;
use crate::api_docs::{AuthFailures, BodyFailures, NotifierWrite};
use crate::audit_context::Audit;
use crate::auth::{Require, markers::CreateNotifier};
use crate::body::JsonObject;
use crate::dto::NotifierResponse;
use crate::links::absolute_path;
use crate::paths::NOTIFIERS_PATH;
use crate::{ApiError, AppState};

/// Create a notifier (permission 2831); `Location` names the new resource.
#[utoipa::path(
    post, path = NOTIFIERS_PATH, tag = "notifiers",
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
    Audit(audit): Audit,
    req: HttpRequest,
    state: web::Data<AppState>,
    JsonObject(body): JsonObject,
) -> Result<HttpResponse, ApiError> {
    let store = &state.store.notifiers;
    let new = match parse_create(&body) {
        Ok(new) => new,
        Err(errors) => return Err(store.refused(None, &body, errors).await.into()),
    };
    let created = store.create(new, &audit).await?;
    let location = absolute_path(&req, &format!("{NOTIFIERS_PATH}/{}", created.id));
    let mut response = json_response(StatusCode::CREATED, created.body);
    if let Ok(value) = location.parse() {
        response.headers_mut().insert(LOCATION, value);
    }
    Ok(response)
}
