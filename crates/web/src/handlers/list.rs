use actix_web::{HttpRequest, HttpResponse, web};
use notifier_domain::ListQuery;
use notifier_persistence::notifiers;

use std::sync::Arc;

use actix_web::web::Bytes;

use super::{DataVersion, data_version, json_body, notifier_body};
use crate::auth::{Require, markers::ListNotifiers};
use crate::dto::PageResponse;
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
    let key = format!("{}?{}", absolute_path(&req, req.path()), req.query_string());
    let version = data_version(&req, &state);
    let cached = version
        .as_ref()
        .and_then(|version| state.caches.pages.get(&key, |seen| seen == version));
    if let Some(body) = cached {
        return Ok(json_body(body));
    }
    let ids = matching_ids(&state, &query, &version).await?;
    let count = ids.len() as u64;
    let num_pages = Ord::max(count.div_ceil(query.page_size), 1);
    let number = query.page.unwrap_or(num_pages);
    if number > num_pages {
        return Err(ApiError::InvalidPage);
    }
    let first = usize::try_from((number - 1) * query.page_size).unwrap_or(usize::MAX);
    let on_page = ids
        .get(first..)
        .unwrap_or_default()
        .iter()
        .take(usize::try_from(query.page_size).unwrap_or(usize::MAX));
    let results = item_bodies(&state, on_page.copied().collect()).await?;
    let next = (number < num_pages).then(|| page_link(&req, Some(number + 1)));
    // DRF drops `page` for the first page instead of writing page=1.
    let previous = match number {
        1 => None,
        2 => Some(page_link(&req, None)),
        n => Some(page_link(&req, Some(n - 1))),
    };
    let body = page_body(count, next.as_deref(), previous.as_deref(), &results)?;
    if let Some(version) = version {
        state.caches.pages.insert(key, version, body.clone());
    }
    Ok(json_body(body))
}

/// The query's ordered ids, shared by all its pages while the data stays as it is.
async fn matching_ids(
    state: &AppState,
    query: &ListQuery,
    version: &Option<DataVersion>,
) -> Result<Arc<Vec<i64>>, ApiError> {
    let selection = ListQuery {
        page: None,
        page_size: 0,
        ..query.clone()
    };
    let cached = || {
        let version = version.as_ref()?;
        state
            .caches
            .selections
            .get(&selection, |seen| seen == version)
    };
    if let Some(ids) = cached() {
        return Ok(ids);
    }
    let _loading = state.caches.loads.lock(&selection).await;
    if let Some(ids) = cached() {
        return Ok(ids);
    }
    let ids = Arc::new(notifiers::matching_ids(&state.db, query).await?);
    if let Some(version) = version {
        state
            .caches
            .selections
            .insert(selection, version.clone(), Arc::clone(&ids));
    }
    Ok(ids)
}

/// Each notifier's body, from the item cache or (those missing) one query. A row deleted
/// since the ids were read is left out.
async fn item_bodies(state: &AppState, ids: Vec<i64>) -> Result<Vec<Bytes>, ApiError> {
    let mut bodies: Vec<Option<Bytes>> = ids.iter().map(|id| state.caches.items.get(*id)).collect();
    let missing: Vec<i64> = ids
        .iter()
        .zip(&bodies)
        .filter(|(_, body)| body.is_none())
        .map(|(id, _)| *id)
        .collect();
    if !missing.is_empty() {
        let load = state.caches.items.start_load();
        let mut loaded = Vec::with_capacity(missing.len());
        for notifier in notifiers::get_many(&state.db, &state.secrets, &missing).await? {
            let body = notifier_body(state, &notifier)?;
            if let Some(at) = ids.iter().position(|id| *id == notifier.id) {
                bodies[at] = Some(body.clone());
            }
            loaded.push((notifier.id, body));
        }
        load.keep(loaded);
    }
    Ok(bodies.into_iter().flatten().collect())
}

/// The page as [`PageResponse`] serializes it, from bodies already serialized.
fn page_body(
    count: u64,
    next: Option<&str>,
    previous: Option<&str>,
    results: &[Bytes],
) -> Result<Bytes, ApiError> {
    let size = results.iter().map(|r| r.len() + 1).sum::<usize>() + 512;
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(b"{\"count\":");
    out.extend_from_slice(count.to_string().as_bytes());
    out.extend_from_slice(b",\"next\":");
    serde_json::to_writer(&mut out, &next).map_err(|e| ApiError::Internal(Box::new(e)))?;
    out.extend_from_slice(b",\"previous\":");
    serde_json::to_writer(&mut out, &previous).map_err(|e| ApiError::Internal(Box::new(e)))?;
    out.extend_from_slice(b",\"results\":[");
    for (i, result) in results.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(result);
    }
    out.extend_from_slice(b"]}");
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dto::{NotifierResponse, PageResponse};
    use crate::handlers::to_bytes;
    use notifier_domain::{Notifier, Password};

    #[test]
    fn assembled_page_is_what_the_serializer_writes() {
        let at = chrono::Utc::now();
        let notifiers: Vec<Notifier> = (1..=3)
            .map(|id| Notifier {
                id,
                name: format!("n\"{id}"),
                host: "smtp.example.com".into(),
                port: 587,
                username: "u".into(),
                password: Password::new("p".to_owned()),
                from_email: "a@example.com".into(),
                use_tls: true,
                use_ssl: false,
                fail_silently: false,
                created_at: at,
                updated_at: at,
            })
            .collect();
        let next = Some("http://h/api/notifications/notifiers/email?page=3&search=%22x".to_owned());
        let previous = Some("http://h/api/notifications/notifiers/email".to_owned());
        let items: Vec<NotifierResponse> = notifiers
            .iter()
            .map(|n| NotifierResponse::new(n, false))
            .collect();
        let bodies: Vec<Bytes> = items
            .iter()
            .map(|item| to_bytes(item).expect("serializes"))
            .collect();
        let expected = serde_json::to_vec(&PageResponse {
            count: 41,
            next: next.clone(),
            previous: previous.clone(),
            results: items,
        })
        .expect("serializes");

        let assembled =
            page_body(41, next.as_deref(), previous.as_deref(), &bodies).expect("assembles");

        assert_eq!(
            String::from_utf8_lossy(&assembled),
            String::from_utf8_lossy(&expected)
        );
        let empty = page_body(0, None, None, &[]).expect("assembles");
        assert_eq!(
            &empty[..],
            br#"{"count":0,"next":null,"previous":null,"results":[]}"#
        );
    }
}
