//! The delivery log (docs/API.md §9): list and retrieve, permission 2836.

use actix_web::{HttpRequest, HttpResponse, web};
use notifier_domain::{DeliveryQuery, DeliveryQueryError};

use crate::api_docs::{AuthFailures, DeliveryListParams, Detail, FieldErrorsBody, UnknownDelivery};
use crate::auth::{Require, markers::ViewDeliveries};
use crate::dto::{DeliveryPageResponse, DeliveryResponse};
use crate::links::{neighbour_links, query_pairs};
use crate::paths::{DELIVERIES_PATH, DELIVERY_PATH};
use crate::{ApiError, AppState};

/// List deliveries (permission 2836): newest first by default, filtered by notifier and
/// status, paginated as notifiers are.
#[utoipa::path(
    get, path = DELIVERIES_PATH, tag = "deliveries", operation_id = "list_deliveries",
    params(DeliveryListParams),
    responses(
        (status = 200, description = "One page of deliveries", body = DeliveryPageResponse),
        (status = 400, description = "A filter's value is not valid", body = FieldErrorsBody),
        AuthFailures,
        (status = 404, description = "`page` out of range or not a positive integer", body = Detail),
    ),
    security(("Token" = [])),
)]
pub async fn list(
    _: Require<ViewDeliveries>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = DeliveryQuery::from_pairs(&query_pairs(&req)).map_err(|e| match e {
        DeliveryQueryError::Page(_) => ApiError::InvalidPage,
        DeliveryQueryError::Filters(errors) => ApiError::Validation(errors),
    })?;
    let (number, count, deliveries) = state.store.deliveries.page(&query).await?;
    let num_pages = count.div_ceil(query.page_size).max(1);
    let (next, previous) = neighbour_links(&req, number, num_pages);
    Ok(HttpResponse::Ok().json(DeliveryPageResponse {
        count,
        next,
        previous,
        results: deliveries.iter().map(DeliveryResponse::new).collect(),
    }))
}

/// One delivery (permission 2836).
#[utoipa::path(
    get, path = DELIVERY_PATH, tag = "deliveries", operation_id = "retrieve_delivery",
    params(("id" = i64, Path, description = "The delivery's id")),
    responses(
        (status = 200, description = "The delivery", body = DeliveryResponse),
        AuthFailures,
        UnknownDelivery,
    ),
    security(("Token" = [])),
)]
pub async fn retrieve(
    _: Require<ViewDeliveries>,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let delivery = state.store.deliveries.get(parse_delivery_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(DeliveryResponse::new(&delivery)))
}

/// A path id that routing accepted (digits) but that no row can have is simply not found.
pub(super) fn parse_delivery_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| ApiError::DeliveryNotFound)
}
