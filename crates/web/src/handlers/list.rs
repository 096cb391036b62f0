use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use notifier_domain::ListQuery;

use super::json_body;
use crate::api_docs::{AuthFailures, Detail, ListParams};
use crate::auth::{Require, markers::ListNotifiers};
use crate::dto::PageResponse;
use crate::links::{absolute_path, neighbour_links, query_pairs};
use crate::paths::NOTIFIERS_PATH;
use crate::{ApiError, AppState};

/// List notifiers (permission 2830): filtered, searched, ordered, paginated.
#[utoipa::path(
    get, path = NOTIFIERS_PATH, tag = "notifiers",
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
    let body = state
        .store
        .notifiers
        .page(&query, key, |page| {
            let (next, previous) = neighbour_links(&req, page.number, page.num_pages);
            page_body(
                page.count,
                next.as_deref(),
                previous.as_deref(),
                page.results,
            )
        })
        .await?;
    Ok(json_body(body))
}

/// The page as [`PageResponse`] serializes it, from bodies already serialized.
fn page_body(
    count: u64,
    next: Option<&str>,
    previous: Option<&str>,
    results: &[Bytes],
) -> Result<Bytes, serde_json::Error> {
    let size = results.iter().map(|r| r.len() + 1).sum::<usize>() + 512;
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(b"{\"count\":");
    out.extend_from_slice(count.to_string().as_bytes());
    out.extend_from_slice(b",\"next\":");
    serde_json::to_writer(&mut out, &next)?;
    out.extend_from_slice(b",\"previous\":");
    serde_json::to_writer(&mut out, &previous)?;
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
            .map(|item| Bytes::from(serde_json::to_vec(item).expect("serializes")))
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
