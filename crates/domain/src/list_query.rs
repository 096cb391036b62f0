//! List query parameters as DRF's PageNumberPagination, SearchFilter and OrderingFilter read them.

use crate::limits::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_SEARCH_TERMS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderField {
    Id,
    Name,
    CreatedAt,
    UpdatedAt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Ascending,
    Descending,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ListQuery {
    /// `None` means `page=last`.
    pub page: Option<u64>,
    pub page_size: u64,
    pub search_terms: Vec<String>,
    pub ordering: Vec<(OrderField, Direction)>,
    pub host: Option<String>,
    pub use_tls: Option<bool>,
    pub use_ssl: Option<bool>,
    pub fail_silently: Option<bool>,
}

/// The page parameter is not a positive integer: DRF answers 404 "Invalid page.".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidPage;

impl ListQuery {
    /// Reads decoded query pairs; the last value of a repeated key wins, as in Django.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Self, InvalidPage> {
        let get = |key: &str| last_value(pairs, key);
        let page = page_number(get("page"))?;
        let page_size = page_size(get("page_size"));
        let search_terms = get("search")
            .map(|text| {
                text.replace('\0', "")
                    .split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|t| !t.is_empty())
                    .take(MAX_SEARCH_TERMS)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let mut ordering: Vec<(OrderField, Direction)> =
            get("ordering").map(parse_ordering).unwrap_or_default();
        if ordering.is_empty() {
            ordering.push((OrderField::Id, Direction::Ascending));
        }
        Ok(ListQuery {
            page,
            page_size,
            search_terms,
            ordering,
            host: get("host").map(str::to_owned),
            use_tls: get("use_tls").map(is_true),
            use_ssl: get("use_ssl").map(is_true),
            fail_silently: get("fail_silently").map(is_true),
        })
    }
}

/// The last value of `key`, as Django's `QueryDict.get` reads a repeated key.
pub(crate) fn last_value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// PageNumberPagination's `page`: absent is the first page, `last` the last (`None`), else
/// a positive integer.
pub(crate) fn page_number(value: Option<&str>) -> Result<Option<u64>, InvalidPage> {
    match value {
        None => Ok(Some(1)),
        Some("last") => Ok(None),
        Some(text) => match text.trim().parse::<i64>() {
            Ok(n) if n >= 1 => Ok(Some(n.unsigned_abs())),
            _ => Err(InvalidPage),
        },
    }
}

/// `page_size`: the default unless a positive integer, clamped to the maximum.
pub(crate) fn page_size(value: Option<&str>) -> u64 {
    value
        .and_then(|text| text.trim().parse::<i64>().ok())
        .filter(|n| *n > 0)
        .map_or(DEFAULT_PAGE_SIZE, |n| n.unsigned_abs().min(MAX_PAGE_SIZE))
}

/// Unknown fields are dropped, as OrderingFilter does; none left means the default order.
fn parse_ordering(text: &str) -> Vec<(OrderField, Direction)> {
    text.split(',')
        .filter_map(|term| {
            let term = term.trim();
            let (direction, name) = match term.strip_prefix('-') {
                Some(name) => (Direction::Descending, name),
                None => (Direction::Ascending, term),
            };
            let field = match name {
                "id" => OrderField::Id,
                "name" => OrderField::Name,
                "created_at" => OrderField::CreatedAt,
                "updated_at" => OrderField::UpdatedAt,
                _ => return None,
            };
            Some((field, direction))
        })
        .collect()
}

/// Boolean filters: DRF's true spellings select true rows, anything else false rows.
fn is_true(text: &str) -> bool {
    matches!(
        text,
        "true" | "True" | "TRUE" | "1" | "yes" | "on" | "t" | "y"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> Result<ListQuery, InvalidPage> {
        let owned: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ListQuery::from_pairs(&owned)
    }

    #[test]
    fn defaults_are_first_page_of_twenty_by_id() {
        let q = query(&[]).map_err(|_| "invalid");
        let q = q
            .as_ref()
            .map(|q| (q.page, q.page_size, q.ordering.clone()));
        assert_eq!(
            q,
            Ok((Some(1), 20, vec![(OrderField::Id, Direction::Ascending)]))
        );
    }

    #[test]
    fn bad_pages_are_invalid_and_bad_sizes_fall_back() {
        for bad in ["0", "-1", "abc", "2.0", ""] {
            assert_eq!(query(&[("page", bad)]), Err(InvalidPage), "page={bad}");
        }
        let sizes = [("0", 20), ("-5", 20), ("x", 20), ("500", 100), ("7", 7)];
        for (text, expected) in sizes {
            assert_eq!(
                query(&[("page_size", text)]).map(|q| q.page_size),
                Ok(expected),
                "{text}"
            );
        }
    }

    #[test]
    fn ordering_keeps_known_fields_only() {
        let q = query(&[("ordering", "-name,bogus,created_at")]).map(|q| q.ordering);
        let expected = vec![
            (OrderField::Name, Direction::Descending),
            (OrderField::CreatedAt, Direction::Ascending),
        ];
        assert_eq!(q, Ok(expected));
    }

    #[test]
    fn search_splits_on_spaces_and_commas() {
        let q = query(&[("search", " mail, hamgam ")]).map(|q| q.search_terms);
        assert_eq!(q, Ok(vec!["mail".to_string(), "hamgam".to_string()]));
    }

    #[test]
    fn search_uses_the_first_ten_terms() {
        let many: Vec<String> = (0..1000).map(|i| format!("t{i}")).collect();
        let q = query(&[("search", &many.join(","))]).map(|q| q.search_terms);
        assert_eq!(q, Ok(many[..MAX_SEARCH_TERMS].to_vec()));
    }
}
