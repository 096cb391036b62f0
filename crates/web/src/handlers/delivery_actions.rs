//! Retry and cancel a delivery (docs/API.md §9), permission 2835: state changes the
//! store makes atomically, 409 when the delivery's state does not allow them.

use actix_web::{HttpResponse, web};

use super::delivery_log::parse_delivery_id;
use crate::api_docs::{AuthFailures, Detail, UnknownDelivery};
use crate::audit_context::Audit;
use crate::auth::{Require, markers::SendWithNotifier};
use crate::dto::DeliveryResponse;
use crate::paths::{CANCEL_PATH, RETRY_PATH};
use crate::{ApiError, AppState};

/// A failed or deferred delivery is queued again now, with a fresh round of attempts.
#[utoipa::path(
    post, path = RETRY_PATH, tag = "deliveries", operation_id = "retry_delivery",
    params(("id" = i64, Path, description = "The delivery's id")),
    responses(
        (status = 200, description = "Queued again", body = DeliveryResponse),
        AuthFailures,
        UnknownDelivery,
        (status = 409, description = "Only a failed or deferred delivery can be retried.", body = Detail),
    ),
    security(("Token" = [])),
)]
pub async fn retry(
    _: Require<SendWithNotifier>,
    Audit(audit): Audit,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let delivery = state.outbox.retry(parse_delivery_id(&id)?, &audit).await?;
    Ok(HttpResponse::Ok().json(DeliveryResponse::new(&delivery)))
}

/// A queued or deferred delivery is cancelled; its text is erased.
#[utoipa::path(
    post, path = CANCEL_PATH, tag = "deliveries", operation_id = "cancel_delivery",
    params(("id" = i64, Path, description = "The delivery's id")),
    responses(
        (status = 200, description = "Cancelled", body = DeliveryResponse),
        AuthFailures,
        UnknownDelivery,
        (status = 409, description = "Only a queued or deferred delivery can be cancelled.", body = Detail),
    ),
    security(("Token" = [])),
)]
pub async fn cancel(
    _: Require<SendWithNotifier>,
    Audit(audit): Audit,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let delivery = state
        .store
        .deliveries
        .cancel(parse_delivery_id(&id)?, &audit)
        .await?;
    Ok(HttpResponse::Ok().json(DeliveryResponse::new(&delivery)))
}
