use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use notifier_persistence::notifiers;

use super::{notifier_json, parse_id};
use crate::auth::{Require, markers::RetrieveNotifier};
use crate::{ApiError, AppState};

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
