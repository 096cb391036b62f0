//! `GET /api/audit`'s query: DRF page-number pagination and exact filters on notifier,
//! actor and action; newest first.

use crate::FieldErrors;
use crate::list_query::{InvalidPage, last_value, page_number, page_size};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    /// `None` means `page=last`.
    pub page: Option<u64>,
    pub page_size: u64,
    pub notifier: Option<i64>,
    pub actor: Option<String>,
    pub action: Option<String>,
}

/// Why an audit query was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditQueryError {
    /// 404 "Invalid page.".
    Page(InvalidPage),
    /// 400 with django-filter's messages.
    Filters(FieldErrors),
}

impl AuditQuery {
    /// Reads decoded query pairs; the last value of a repeated key wins, as in Django, and
    /// an empty value filters nothing, as in django-filter.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Self, AuditQueryError> {
        let get = |key: &str| {
            last_value(pairs, key)
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let mut notifier = None;
        if let Some(text) = get("notifier") {
            match text.parse::<i64>() {
                Ok(id) => notifier = Some(id),
                Err(_) => {
                    return Err(AuditQueryError::Filters(FieldErrors::single(
                        "notifier",
                        "Enter a number.",
                    )));
                }
            }
        }
        let page = page_number(get("page")).map_err(AuditQueryError::Page)?;
        Ok(AuditQuery {
            page,
            page_size: page_size(get("page_size")),
            notifier,
            actor: get("actor").map(str::to_owned),
            action: get("action").map(str::to_owned),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::DEFAULT_PAGE_SIZE;

    fn query(pairs: &[(&str, &str)]) -> Result<AuditQuery, AuditQueryError> {
        let owned: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        AuditQuery::from_pairs(&owned)
    }

    #[test]
    fn filters_are_read_and_a_bad_notifier_is_a_field_error() {
        let q = query(&[("notifier", "3"), ("actor", "ops"), ("action", "update")]).unwrap();
        assert_eq!(
            (q.notifier, q.actor.as_deref(), q.action.as_deref()),
            (Some(3), Some("ops"), Some("update"))
        );
        assert_eq!((q.page, q.page_size), (Some(1), DEFAULT_PAGE_SIZE));
        assert!(matches!(
            query(&[("notifier", "x")]),
            Err(AuditQueryError::Filters(_))
        ));
        assert!(matches!(
            query(&[("page", "0")]),
            Err(AuditQueryError::Page(_))
        ));
        assert_eq!(query(&[("actor", "")]).unwrap().actor, None);
    }
}
