//! Deliveries (§9): every message accepted by `/send`, its state and its retry schedule.

use chrono::{DateTime, Utc};

use crate::FieldErrors;
use crate::list_query::{Direction, InvalidPage, last_value, page_number, page_size};

/// Where a delivery stands; the names are the API's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    Queued,
    Sending,
    Sent,
    /// An attempt failed transiently; another is scheduled.
    Deferred,
    Failed,
    Cancelled,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 6] = [
        DeliveryStatus::Queued,
        DeliveryStatus::Sending,
        DeliveryStatus::Sent,
        DeliveryStatus::Deferred,
        DeliveryStatus::Failed,
        DeliveryStatus::Cancelled,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Sending => "sending",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Deferred => "deferred",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Waiting for an attempt: the only states with a `next_attempt_at`.
    pub const fn is_waiting(self) -> bool {
        matches!(self, DeliveryStatus::Queued | DeliveryStatus::Deferred)
    }
}

/// One delivery as the API shows it; the message's text is never part of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub notifier: Option<i64>,
    pub notifier_name: String,
    pub status: DeliveryStatus,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub subject: String,
    pub message_id: String,
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_reply_code: Option<u16>,
    pub requested_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The list's parameters: DRF pagination, exact filters and a one-field ordering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryQuery {
    /// `None` means `page=last`.
    pub page: Option<u64>,
    pub page_size: u64,
    pub notifier: Option<i64>,
    pub status: Option<DeliveryStatus>,
    pub ordering: DeliveryOrder,
}

/// `created_at` and `id` order alike (ids are assigned in creation order); both are kept
/// because the contract names both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOrder {
    CreatedAt(Direction),
    Id(Direction),
}

/// Why a delivery list query was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryQueryError {
    /// 404 "Invalid page.", as for notifiers.
    Page(InvalidPage),
    /// 400 with django-filter's messages.
    Filters(FieldErrors),
}

impl DeliveryQuery {
    /// Reads decoded query pairs; the last value of a repeated key wins, as in Django.
    /// Filters answer as django-filter does: a bad value is a 400 naming the field.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Self, DeliveryQueryError> {
        // django-filter ignores an empty filter value, as Django's paginator an empty page.
        let get = |key: &str| {
            last_value(pairs, key)
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let mut errors = FieldErrors::default();
        let notifier = get("notifier").and_then(|text| match text.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.add("notifier", "Enter a number.");
                None
            }
        });
        let status = get("status").and_then(|text| match DeliveryStatus::parse(text) {
            Some(status) => Some(status),
            None => {
                errors.add(
                    "status",
                    format!("Select a valid choice. {text} is not one of the available choices."),
                );
                None
            }
        });
        let page = page_number(get("page")).map_err(DeliveryQueryError::Page)?;
        if !errors.is_empty() {
            return Err(DeliveryQueryError::Filters(errors));
        }
        let page_size = page_size(get("page_size"));
        // OrderingFilter ignores unknown fields; the first known one decides.
        let ordering = get("ordering")
            .into_iter()
            .flat_map(|text| text.split(','))
            .find_map(|term| match term.trim() {
                "created_at" => Some(DeliveryOrder::CreatedAt(Direction::Ascending)),
                "-created_at" => Some(DeliveryOrder::CreatedAt(Direction::Descending)),
                "id" => Some(DeliveryOrder::Id(Direction::Ascending)),
                "-id" => Some(DeliveryOrder::Id(Direction::Descending)),
                _ => None,
            })
            .unwrap_or(DeliveryOrder::CreatedAt(Direction::Descending));
        Ok(DeliveryQuery {
            page,
            page_size,
            notifier,
            status,
            ordering,
        })
    }
}

/// The wait before automatic attempt `n + 1` after `n` failed ones (n ≥ 1): 30 s, 1 min,
/// 2 min, 4 min, … capped at 30 min, before jitter.
pub fn backoff(failed_attempts: u32) -> std::time::Duration {
    const FIRST_SECS: u64 = 30;
    const CAP_SECS: u64 = 30 * 60;
    let doublings = failed_attempts.saturating_sub(1).min(16);
    std::time::Duration::from_secs((FIRST_SECS << doublings).min(CAP_SECS))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::limits::DEFAULT_PAGE_SIZE;

    fn query(pairs: &[(&str, &str)]) -> Result<DeliveryQuery, DeliveryQueryError> {
        let owned: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        DeliveryQuery::from_pairs(&owned)
    }

    #[test]
    fn defaults_are_newest_first_page_one() {
        let q = query(&[]).unwrap();
        assert_eq!(q.page, Some(1));
        assert_eq!(query(&[("page", "last")]).unwrap().page, None);
        assert_eq!(q.page_size, DEFAULT_PAGE_SIZE);
        assert_eq!(q.ordering, DeliveryOrder::CreatedAt(Direction::Descending));
        assert_eq!((q.notifier, q.status), (None, None));
    }

    #[test]
    fn filters_and_ordering_are_read() {
        let q = query(&[
            ("notifier", "7"),
            ("status", "deferred"),
            ("ordering", "name,id"),
        ])
        .unwrap();
        assert_eq!(q.notifier, Some(7));
        assert_eq!(q.status, Some(DeliveryStatus::Deferred));
        assert_eq!(q.ordering, DeliveryOrder::Id(Direction::Ascending));
    }

    #[test]
    fn bad_filters_name_each_field() {
        let Err(DeliveryQueryError::Filters(errors)) =
            query(&[("notifier", "x"), ("status", "lost")])
        else {
            panic!("expected filter errors");
        };
        assert_eq!(
            serde_json::to_string(&errors).unwrap(),
            r#"{"notifier":["Enter a number."],"status":["Select a valid choice. lost is not one of the available choices."]}"#
        );
        assert!(matches!(
            query(&[("page", "0")]),
            Err(DeliveryQueryError::Page(_))
        ));
    }

    #[test]
    fn backoff_doubles_from_thirty_seconds_up_to_thirty_minutes() {
        let secs: Vec<u64> = (1..=8).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480, 960, 1800, 1800]);
        assert_eq!(backoff(u32::MAX).as_secs(), 1800);
    }

    #[test]
    fn statuses_round_trip() {
        for s in DeliveryStatus::ALL {
            assert_eq!(DeliveryStatus::parse(s.as_str()), Some(s));
        }
        assert!(DeliveryStatus::Deferred.is_waiting());
        assert!(!DeliveryStatus::Sending.is_waiting());
    }
}
