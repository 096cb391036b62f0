//! Response bodies, field for field and in the order DRF's serializer writes them.

use chrono::{DateTime, SecondsFormat, Utc};
use notifier_domain::{Delivery, MASKED_PASSWORD, Notifier};
use serde::Serialize;

/// A notifier as responses show it; `password` is `********` unless the server exposes it.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Notifier)]
pub struct NotifierResponse<'a> {
    #[schema(read_only)]
    id: i64,
    name: &'a str,
    host: &'a str,
    port: u16,
    username: &'a str,
    #[schema(example = "********")]
    password: &'a str,
    from_email: &'a str,
    use_tls: bool,
    use_ssl: bool,
    fail_silently: bool,
    #[schema(read_only, format = DateTime, example = "2025-12-28T17:43:38.130046Z")]
    created_at: String,
    #[schema(read_only, format = DateTime, example = "2025-12-28T17:43:38.130046Z")]
    updated_at: String,
}

impl<'a> NotifierResponse<'a> {
    pub fn new(notifier: &'a Notifier, expose_password: bool) -> Self {
        Self {
            id: notifier.id,
            name: &notifier.name,
            host: &notifier.host,
            port: notifier.port,
            username: &notifier.username,
            password: if expose_password {
                notifier.password.expose()
            } else {
                MASKED_PASSWORD
            },
            from_email: &notifier.from_email,
            use_tls: notifier.use_tls,
            use_ssl: notifier.use_ssl,
            fail_silently: notifier.fail_silently,
            created_at: timestamp(notifier.created_at),
            updated_at: timestamp(notifier.updated_at),
        }
    }
}

/// Notifier bodies as the store keeps them: [`NotifierResponse`] as JSON.
pub struct NotifierBodies {
    /// Return stored passwords instead of the mask, for clients that depend on it.
    pub expose_passwords: bool,
}

impl notifier_store::Render for NotifierBodies {
    fn body(&self, notifier: &Notifier) -> Result<actix_web::web::Bytes, serde_json::Error> {
        serde_json::to_vec(&NotifierResponse::new(notifier, self.expose_passwords))
            .map(actix_web::web::Bytes::from)
    }
}

/// One page of the list, with absolute links to its neighbours.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = NotifierPage)]
pub struct PageResponse<'a> {
    pub count: u64,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<NotifierResponse<'a>>,
}

/// A delivery as responses show it (docs/API.md §9); the message's text never is.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Delivery)]
pub struct DeliveryResponse<'a> {
    id: i64,
    /// Null once the notifier is deleted.
    notifier: Option<i64>,
    notifier_name: &'a str,
    #[schema(example = "sent")]
    status: &'static str,
    to: &'a [String],
    cc: &'a [String],
    bcc: &'a [String],
    subject: &'a str,
    #[schema(example = "<4f1c…@notifier.local>")]
    message_id: &'a str,
    attempts: u32,
    #[schema(format = DateTime)]
    next_attempt_at: Option<String>,
    last_error: Option<&'a str>,
    last_reply_code: Option<u16>,
    requested_by: &'a str,
    #[schema(format = DateTime, example = "2025-12-28T17:43:38.130046Z")]
    created_at: String,
    #[schema(format = DateTime, example = "2025-12-28T17:43:38.130046Z")]
    updated_at: String,
    #[schema(format = DateTime)]
    sent_at: Option<String>,
}

impl<'a> DeliveryResponse<'a> {
    pub fn new(delivery: &'a Delivery) -> Self {
        Self {
            id: delivery.id,
            notifier: delivery.notifier,
            notifier_name: &delivery.notifier_name,
            status: delivery.status.as_str(),
            to: &delivery.to,
            cc: &delivery.cc,
            bcc: &delivery.bcc,
            subject: &delivery.subject,
            message_id: &delivery.message_id,
            attempts: delivery.attempts,
            next_attempt_at: delivery.next_attempt_at.map(timestamp),
            last_error: delivery.last_error.as_deref(),
            last_reply_code: delivery.last_reply_code,
            requested_by: &delivery.requested_by,
            created_at: timestamp(delivery.created_at),
            updated_at: timestamp(delivery.updated_at),
            sent_at: delivery.sent_at.map(timestamp),
        }
    }
}

/// One page of the delivery log.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = DeliveryPage)]
pub struct DeliveryPageResponse<'a> {
    pub count: u64,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<DeliveryResponse<'a>>,
}

/// ISO 8601 in UTC with microseconds and `Z`, e.g. `2025-12-28T17:43:38.130046Z`.
pub fn timestamp(at: DateTime<Utc>) -> String {
    // Written directly; a format string is parsed anew on every call.
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn timestamps_always_carry_microseconds() {
        let whole_second = Utc.with_ymd_and_hms(2025, 12, 28, 17, 43, 38).single();
        assert_eq!(
            whole_second.map(timestamp).as_deref(),
            Some("2025-12-28T17:43:38.000000Z")
        );
        let with_micros = whole_second.map(|at| at + chrono::Duration::microseconds(130_046));
        assert_eq!(
            with_micros.map(timestamp).as_deref(),
            Some("2025-12-28T17:43:38.130046Z")
        );
    }
}
