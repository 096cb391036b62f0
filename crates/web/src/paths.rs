//! The served paths, in OpenAPI path syntax, and the methods each answers. A leaf module:
//! the route table, the handlers' links and `#[utoipa::path]` attributes all read it.

pub const NOTIFIERS_PATH: &str = "/api/notifications/notifiers/email";
pub const NOTIFIER_PATH: &str = "/api/notifications/notifiers/email/{id}";
pub const CHECK_PATH: &str = "/api/notifications/notifiers/email/{id}/test";
pub const SEND_PATH: &str = "/api/notifications/notifiers/email/{id}/send";
pub const AUTHENTICATION_PATH: &str = "/api/notifications/notifiers/email/{id}/authentication";
pub const DKIM_PATH: &str = "/api/notifications/notifiers/email/{id}/dkim";
pub const DELIVERIES_PATH: &str = "/api/notifications/deliveries";
pub const DELIVERY_PATH: &str = "/api/notifications/deliveries/{id}";
pub const RETRY_PATH: &str = "/api/notifications/deliveries/{id}/retry";
pub const CANCEL_PATH: &str = "/api/notifications/deliveries/{id}/cancel";
pub const ME_PATH: &str = "/api/me";
pub const AUDIT_PATH: &str = "/api/audit";
pub const HEALTHZ_PATH: &str = "/healthz";
pub const READYZ_PATH: &str = "/readyz";
pub const METRICS_PATH: &str = "/metrics";

pub const COLLECTION_ALLOW: &str = "GET, POST, HEAD, OPTIONS";
pub const ITEM_ALLOW: &str = "GET, PUT, PATCH, DELETE, HEAD, OPTIONS";
pub const ACTION_ALLOW: &str = "POST, OPTIONS";
pub const SETTING_ALLOW: &str = "GET, PUT, HEAD, OPTIONS";
pub const DKIM_ALLOW: &str = "GET, PUT, DELETE, HEAD, OPTIONS";
pub const READ_ONLY_ALLOW: &str = "GET, HEAD, OPTIONS";
pub const ME_ALLOW: &str = READ_ONLY_ALLOW;
pub const OPEN_ALLOW: &str = "GET";

/// Every route with the methods it serves: the 405 answers' `Allow` headers come from
/// here, and a test holds the schema to exactly this list.
pub const ROUTES: [(&str, &str); 15] = [
    (NOTIFIERS_PATH, COLLECTION_ALLOW),
    (NOTIFIER_PATH, ITEM_ALLOW),
    (CHECK_PATH, ACTION_ALLOW),
    (SEND_PATH, ACTION_ALLOW),
    (AUTHENTICATION_PATH, SETTING_ALLOW),
    (DKIM_PATH, DKIM_ALLOW),
    (DELIVERIES_PATH, READ_ONLY_ALLOW),
    (DELIVERY_PATH, READ_ONLY_ALLOW),
    (RETRY_PATH, ACTION_ALLOW),
    (CANCEL_PATH, ACTION_ALLOW),
    (ME_PATH, ME_ALLOW),
    (AUDIT_PATH, READ_ONLY_ALLOW),
    (HEALTHZ_PATH, OPEN_ALLOW),
    (READYZ_PATH, OPEN_ALLOW),
    (METRICS_PATH, OPEN_ALLOW),
];
