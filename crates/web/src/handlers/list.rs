use actix_web::{HttpRequest, HttpResponse, web};
use notifier_domain::ListQuery;
use notifier_persistence::notifiers;

use crate::auth::{Require, markers::ListNotifiers};
use crate::dto::{NotifierResponse, PageResponse};
use crate::links::{page_link, query_pairs};
use crate::{ApiError, AppState};

/// GET the collection: filtered, searched, ordered, paginated (§4).
pub async fn list(
    _: Require<ListNotifiers>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = ListQuery::from_pairs(&query_pairs(&req)).map_err(|_| ApiError::InvalidPage)?;
    let page = notifiers::list(&state.db, &state.secrets, &query).await?;
    let next = (page.number < page.num_pages).then(|| page_link(&req, Some(page.number + 1)));
    // DRF drops `page` for the first page instead of writing page=1.
    let previous = match page.number {
        1 => None,
        2 => Some(page_link(&req, None)),
        n => Some(page_link(&req, Some(n - 1))),
    };
    let results = page
        .items
        .iter()
        .map(|n| NotifierResponse::new(n, state.expose_passwords))
        .collect();
    Ok(HttpResponse::Ok().json(PageResponse {
        count: page.count,
        next,
        previous,
        results,
    }))
}
