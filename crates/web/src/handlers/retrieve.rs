use actix_web::{HttpResponse, web};

use super::{json_body, parse_id};
use crate::api_docs::{AuthFailures, UnknownNotifier};
use crate::auth::{Require, markers::RetrieveNotifier};
use crate::dto::NotifierResponse;
use crate::paths::NOTIFIER_PATH;
use crate::{ApiError, AppState};

/// Retrieve a notifier (permission 2832).
#[utoipa::path(
    get, path = NOTIFIER_PATH, tag = "notifiers",
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
    let body = state.store.notifiers.get(parse_id(&id)?).await?;
    Ok(json_body(body))
}
