//! Absolute URLs the way Django builds them: pagination links and `Location`.

use actix_web::{HttpRequest, web};

use crate::AppState;

/// `path` as an absolute URL on this service, under `server.public_url` when set (see
/// `OriginPolicy::base_url`: forwarded names count only from trusted proxies).
pub fn absolute_path(req: &HttpRequest, path: &str) -> String {
    let base = match req.app_data::<web::Data<AppState>>() {
        Some(state) => state.origin.base_url(req),
        None => crate::OriginPolicy::default().base_url(req),
    };
    format!("{base}{path}")
}

/// The query pairs of the request, decoded, in their original order.
pub fn query_pairs(req: &HttpRequest) -> Vec<(String, String)> {
    serde_urlencoded::from_str(req.query_string()).unwrap_or_default()
}

/// DRF's `replace_query_param` (`Some`) / `remove_query_param` (`None`) for `page`:
/// keys sorted, values quoted with `quote_plus`.
pub fn page_link(req: &HttpRequest, page: Option<u64>) -> String {
    let mut pairs: Vec<(String, String)> = query_pairs(req)
        .into_iter()
        .filter(|(key, _)| key != "page")
        .collect();
    if let Some(page) = page {
        pairs.push(("page".into(), page.to_string()));
    }
    // A stable sort keeps repeated keys' values in request order, like parse_qs + sorted.
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", quote_plus(k), quote_plus(v)))
        .collect();
    let base = absolute_path(req, req.path());
    if query.is_empty() {
        base
    } else {
        format!("{base}?{}", query.join("&"))
    }
}

/// A page's `next` and `previous` links, as DRF writes them (the first page's link
/// drops `page` instead of writing page=1).
pub fn neighbour_links(
    req: &HttpRequest,
    number: u64,
    num_pages: u64,
) -> (Option<String>, Option<String>) {
    let next = (number < num_pages).then(|| page_link(req, Some(number + 1)));
    let previous = match number {
        0 | 1 => None,
        2 => Some(page_link(req, None)),
        n => Some(page_link(req, Some(n - 1))),
    };
    (next, previous)
}

/// Python's `urllib.parse.quote_plus`.
fn quote_plus(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_plus_matches_python() {
        assert_eq!(quote_plus("x y"), "x+y");
        assert_eq!(quote_plus("a&b=c~*"), "a%26b%3Dc~%2A");
        assert_eq!(quote_plus("é"), "%C3%A9");
    }
}
