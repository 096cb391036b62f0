//! Response bodies, field for field and in the order DRF's serializer writes them.

use chrono::{DateTime, SecondsFormat, Utc};
use notifier_domain::{MASKED_PASSWORD, Notifier};
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
