use actix_web::{HttpRequest, HttpResponse, web};
use notifier_domain::ListQuery;
use notifier_persistence::notifiers;

use super::{cached_json, to_bytes};
use crate::auth::{Require, markers::ListNotifiers};
use crate::dto::{NotifierResponse, PageResponse};
use crate::links::{absolute_path, page_link, query_pairs};
use crate::openapi::{AuthFailures, Detail};
use crate::{ApiError, AppState};

/// The list's query parameters (§4).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct ListParams {
    /// Page number from 1, or `last`.
    page: Option<String>,
    /// Items per page: default 20, at most 100.
    page_size: Option<u32>,
    /// Case-insensitive substring of name, host, username or from_email; several terms
    /// separated by spaces or commas must all match.
    search: Option<String>,
    /// `id`, `name`, `created_at` or `updated_at`, `-` for descending; comma-separated.
    ordering: Option<String>,
    /// Exact host.
    host: Option<String>,
    use_tls: Option<bool>,
    use_ssl: Option<bool>,
    fail_silently: Option<bool>,
}

/// List notifiers (permission 2830): filtered, searched, ordered, paginated.
#[utoipa::path(
    get, path = "/api/notifications/notifiers/email", tag = "notifiers",
    params(ListParams),
    responses(
        (status = 200, description = "One page of notifiers", body = PageResponse),
        AuthFailures,
        (status = 404, description = "`page` out of range or not a positive integer", body = Detail),
    ),
    security(("Token" = [])),
)]
pub async fn list(
    _: Require<ListNotifiers>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = ListQuery::from_pairs(&query_pairs(&req)).map_err(|_| ApiError::InvalidPage)?;
    // The body's links carry the scheme, host, path and query: all part of the key.
    let key = format!(
        "list:{}?{}",
        absolute_path(&req, req.path()),
        req.query_string()
    );
    cached_json(&req, &state, key, || async {
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
        to_bytes(&PageResponse {
            count: page.count,
            next,
            previous,
            results,
        })
    })
    .await
}
