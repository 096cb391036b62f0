use actix_web::{HttpResponse, web};
use notifier_persistence::notifiers;

use super::parse_id;
use crate::auth::{Require, markers::DeleteNotifier};
use crate::{ApiError, AppState};

pub async fn delete(
    _: Require<DeleteNotifier>,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id)?;
    notifiers::delete(&state.db, id).await?;
    state.mailer.forget(id);
    Ok(HttpResponse::NoContent().finish())
}
